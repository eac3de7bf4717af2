/**
 * Port of "Protocol and framing" and "JSON Unicode Encoding" of sockjs-protocol 0.3.3
 * (through xhr-polling), plus PROTOCOL.md section 3: the full server escaping table,
 * lone surrogates, message batching and heartbeat frames on every HTTP transport.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { startConformanceServer, type ConformanceServer } from '../helpers/conformance';
import { delay, fireAndHold, GET, POST, stream, type StreamingResponse } from '../helpers/http';
import { asciiSpecials, assertNoRaw, assertSameMessages, newSession } from '../helpers/protocol';

/** Characters the client library escapes before sending (from the Python suite). */
const ESCAPABLE_BY_CLIENT =
  /["\x00-\x1f\x7f-\x9f\u00ad\u0600-\u0604\u070f\u17b4\u17b5\u2000-\u20ff\ufeff\ufff0-\uffff\ufffe\uffff\u0300-\u0333\u033d-\u0346\u034a-\u034c\u0350-\u0352\u0357-\u0358\u035c-\u0362\u0374\u037e\u0387\u0591-\u05af\u05c4\u0610-\u0617\u0653-\u0654\u0657-\u065b\u065d-\u065e\u06df-\u06e2\u06eb-\u06ec\u0730\u0732-\u0733\u0735-\u0736\u073a\u073d\u073f-\u0741\u0743\u0745\u0747\u07eb-\u07f1\u0951\u0958-\u095f\u09dc-\u09dd\u09df\u0a33\u0a36\u0a59-\u0a5b\u0a5e\u0b5c-\u0b5d\u0e38-\u0e39\u0f43\u0f4d\u0f52\u0f57\u0f5c\u0f69\u0f72-\u0f76\u0f78\u0f80-\u0f83\u0f93\u0f9d\u0fa2\u0fa7\u0fac\u0fb9\u1939-\u193a\u1a17\u1b6b\u1cda-\u1cdb\u1dc0-\u1dcf\u1dfc\u1dfe\u1f71\u1f73\u1f75\u1f77\u1f79\u1f7b\u1f7d\u1fbb\u1fbe\u1fc9\u1fcb\u1fd3\u1fdb\u1fe3\u1feb\u1fee-\u1fef\u1ff9\u1ffb\u1ffd\u2000-\u2001\u20d0-\u20d1\u20d4-\u20d7\u20e7-\u20e9\u2126\u212a-\u212b\u2329-\u232a\u2adc\u302b-\u302c\uaab2-\uaab3\uf900-\ufa0d\ufa10\ufa12\ufa15-\ufa1e\ufa20\ufa22\ufa25-\ufa26\ufa2a-\ufa2d\ufa30-\ufa6d\ufa70-\ufad9\ufb1d\ufb1f\ufb2a-\ufb36\ufb38-\ufb3c\ufb3e\ufb40-\ufb41\ufb43-\ufb44\ufb46-\ufb4e]/;

/** Characters the server must escape as \uXXXX (the Python suite's set). */
const ESCAPABLE_BY_SERVER = /[\x00-\x1f\u200c-\u200f\u2028-\u202f\u2060-\u206f\ufff0-\uffff]/;

/** PROTOCOL.md section 3: the server set plus lone surrogates. */
const MUST_NOT_APPEAR_RAW = /[\x00-\x1f\u200c-\u200f\u2028-\u202f\u2060-\u206f\ufff0-\uffff\ud800-\udfff]/u;

function hex4(code: number): string {
  return `\\u${code.toString(16).padStart(4, '0')}`;
}

/** The code units `from <= i < to` matching `re`, as one JS string. */
function codeUnits(from: number, to: number, re: RegExp): string {
  let out = '';
  for (let i = from; i < to; i++) {
    const ch = String.fromCharCode(i);
    if (re.test(ch)) out += ch;
  }
  return out;
}

/** Strips `a` and the trailing newline from an xhr-polling body and parses the array. */
function parseMessages(body: string): unknown[] {
  assert.ok(
    body.startsWith('a[') && body.endsWith(']\n'),
    `expected an a[...] frame, got ${body.slice(0, 80)}`,
  );
  const parsed: unknown = JSON.parse(body.slice(1, -1));
  assert.ok(Array.isArray(parsed));
  return parsed;
}

describe('protocol', () => {
  let server: ConformanceServer;
  let base: string;
  let closeBase: string;

  before(async () => {
    server = await startConformanceServer();
    base = `${server.url}/echo`;
    closeBase = `${server.url}/close`;
  });

  after(async () => {
    await server.close();
  });

  describe('simple session over xhr-polling', () => {
    it('opens with o, echoes a sent message, and refuses a second receiver with 2010', async () => {
      const transUrl = base + newSession();
      let r = await POST(`${transUrl}/xhr`);
      assert.equal(r.status, 200);
      assert.equal(r.body, 'o\n');

      r = await POST(`${transUrl}/xhr_send`, { body: '["a"]' });
      assert.equal(r.status, 204);
      assert.equal(r.body, '');

      r = await POST(`${transUrl}/xhr`);
      assert.equal(r.status, 200);
      assert.equal(r.body, 'a["a"]\n');

      // Sending to a session that does not exist is invalid.
      r = await POST(`${base}/000/bad_session/xhr_send`, { body: '["a"]' });
      assert.equal(r.status, 404);

      // Only one receiving request at a time: a second one gets a close frame.
      const r1 = await fireAndHold('POST', `${transUrl}/xhr`);
      try {
        await delay(100);
        const r2 = await POST(`${transUrl}/xhr`);
        assert.equal(r2.status, 200);
        assert.equal(r2.body, 'c[2010,"Another connection still open"]\n');
      } finally {
        r1.close();
      }
    });

    it('delivers messages queued between polls, in order, in one frame', async () => {
      const transUrl = base + newSession();
      assert.equal((await POST(`${transUrl}/xhr`)).body, 'o\n');
      assert.equal((await POST(`${transUrl}/xhr_send`, { body: '["a"]' })).status, 204);
      assert.equal((await POST(`${transUrl}/xhr_send`, { body: '["b","c"]' })).status, 204);
      assert.equal((await POST(`${transUrl}/xhr_send`, { body: '[]' })).status, 204);
      assert.equal((await POST(`${transUrl}/xhr_send`, { body: '["d"]' })).status, 204);
      const r = await POST(`${transUrl}/xhr`);
      assert.equal(r.status, 200);
      assert.equal(r.body, 'a["a","b","c","d"]\n');
    });

    it('answers a waiting poll as soon as a message arrives', async () => {
      const transUrl = base + newSession();
      assert.equal((await POST(`${transUrl}/xhr`)).body, 'o\n');
      const poll = POST(`${transUrl}/xhr`);
      poll.catch(() => undefined); // awaited below; never an unhandled rejection
      await delay(100);
      assert.equal((await POST(`${transUrl}/xhr_send`, { body: '["late"]' })).status, 204);
      const r = await poll;
      assert.equal(r.status, 200);
      assert.equal(r.body, 'a["late"]\n');
    });
  });

  describe('close session', () => {
    it('sends the application close frame to this and every later poll', async () => {
      const transUrl = closeBase + newSession();
      let r = await POST(`${transUrl}/xhr`);
      assert.equal(r.status, 200);
      assert.equal(r.body, 'o\n');

      r = await POST(`${transUrl}/xhr`);
      assert.equal(r.status, 200);
      assert.equal(r.body, 'c[3000,"Go away!"]\n');

      // Until the session expires the server keeps serving the close frame.
      r = await POST(`${transUrl}/xhr`);
      assert.equal(r.status, 200);
      assert.equal(r.body, 'c[3000,"Go away!"]\n');
    });
  });

  describe('json encoding', () => {
    it('escapes every character of the server set above U+00FF as lower-case \\uXXXX', async () => {
      const transUrl = base + newSession();
      let r = await POST(`${transUrl}/xhr`);
      assert.equal(r.status, 200);
      assert.equal(r.body, 'o\n');

      const raw = codeUnits(255, 65536, ESCAPABLE_BY_SERVER);
      const expectedEscaped = '"' + Array.from(raw, (ch) => hex4(ch.charCodeAt(0))).join('') + '"';
      // Sent verbatim, as UTF-8 (these characters are all legal raw inside a JSON string).
      r = await POST(`${transUrl}/xhr_send`, { body: `["${raw}"]` });
      assert.equal(r.status, 204);

      r = await POST(`${transUrl}/xhr`);
      assert.equal(r.status, 200);
      // Skip framing, the brackets and the trailing newline.
      const recv = r.body.trim().slice(2, -1);
      assertSameMessages([recv], [expectedEscaped], 'escaped frame');
    });

    it('decodes every character the client escapes', async () => {
      const transUrl = base + newSession();
      let r = await POST(`${transUrl}/xhr`);
      assert.equal(r.status, 200);
      assert.equal(r.body, 'o\n');

      const chars = codeUnits(0, 65536, ESCAPABLE_BY_CLIENT);
      const clientKillerEsc = '"' + Array.from(chars, (ch) => hex4(ch.charCodeAt(0))).join('') + '"';
      r = await POST(`${transUrl}/xhr_send`, { body: `[${clientKillerEsc}]` });
      assert.equal(r.status, 204);

      r = await POST(`${transUrl}/xhr`);
      assert.equal(r.status, 200);
      assertSameMessages(parseMessages(r.body), [chars], 'client-escaped characters');
    });

    it('round-trips all 65536 code units, never sending an escapable one raw', async () => {
      const transUrl = base + newSession();
      assert.equal((await POST(`${transUrl}/xhr`)).body, 'o\n');

      const blockSize = 4096;
      for (let start = 0; start < 65536; start += blockSize) {
        let text = '';
        for (let i = start; i < start + blockSize; i++) {
          if (i >= 0xd800 && i <= 0xdfff) continue; // lone surrogates: see the next test
          text += String.fromCharCode(i);
        }
        const sent = await POST(`${transUrl}/xhr_send`, { body: JSON.stringify([text]) });
        assert.equal(sent.status, 204, `block at ${start.toString(16)}`);

        const r = await POST(`${transUrl}/xhr`);
        assert.equal(r.status, 200);
        const block = `block at U+${start.toString(16)}`;
        assertNoRaw(r.body.slice(0, -1), MUST_NOT_APPEAR_RAW, block);
        assertSameMessages(parseMessages(r.body), [text], block);
      }
    });

    it('escapes lone surrogates and echoes them unchanged', async () => {
      const transUrl = base + newSession();
      assert.equal((await POST(`${transUrl}/xhr`)).body, 'o\n');

      const escaped: string[] = [];
      const messages: string[] = [];
      for (let i = 0xd800; i <= 0xdfff; i++) {
        escaped.push(`"${hex4(i)}"`);
        messages.push(String.fromCharCode(i));
      }
      const sent = await POST(`${transUrl}/xhr_send`, { body: `[${escaped.join(',')}]` });
      assert.equal(sent.status, 204);

      const r = await POST(`${transUrl}/xhr`);
      assert.equal(r.status, 200);
      assertSameMessages([r.body.toLowerCase()], [`a[${escaped.join(',')}]\n`], 'escaped surrogates');
      assertSameMessages(parseMessages(r.body), messages, 'lone surrogates');
    });

    it('frames ASCII byte-exact with every character JSON escapes, wherever it stands', async () => {
      const transUrl = base + newSession();
      assert.equal((await POST(`${transUrl}/xhr`)).body, 'o\n');
      // Plain ASCII messages are framed straight into bytes, tested four bytes at a time:
      // each special character is placed at every offset of a word, and near both ends.
      const texts: string[] = [];
      for (const special of asciiSpecials()) {
        for (const at of [0, 1, 2, 3, 64, 65, 66, 67, 98, 99])
          texts.push('x'.repeat(at) + special + 'y'.repeat(99 - at));
      }
      // From 1 KiB on the bytes are checked by Node's native searches and a loop over
      // words for control characters: every special character at the ends and near the
      // middle of a long message, and text outside ASCII too.
      for (const special of [...asciiSpecials(), '\u00e9', '\u4e2d']) {
        for (const at of [0, 1, 2, 3, 1024, 1025, 1026, 2046, 2047])
          texts.push('x'.repeat(at) + special + 'y'.repeat(2047 - at));
      }
      const batches = [
        ['plain', 'x'.repeat(300)],
        ['plain', 'quo"te', '\u00e9t\u00e9'],
        ['z'.repeat(1500), 'plain', 'x'.repeat(70_000)],
      ];
      for (const batch of [...texts.map((text) => [text]), ...batches]) {
        const sent = await POST(`${transUrl}/xhr_send`, { body: JSON.stringify(batch) });
        assert.equal(sent.status, 204);
        const r = await POST(`${transUrl}/xhr`);
        assert.equal(r.body, 'a' + JSON.stringify(batch) + '\n');
      }
    });

    it('refuses a raw control character in a plain-looking send, short or long', async () => {
      const transUrl = base + newSession();
      assert.equal((await POST(`${transUrl}/xhr`)).body, 'o\n');
      for (const length of [10, 200, 1024, 5000]) {
        for (const at of new Set([0, length >> 1, length - 1])) {
          // JSON forbids it unescaped; a ["..."] of ASCII must not slip past the parser.
          const text = 'x'.repeat(at) + '\x01' + 'x'.repeat(length - 1 - at);
          const r = await POST(`${transUrl}/xhr_send`, { body: '["' + text + '"]' });
          assert.equal(r.status, 500);
          assert.equal(r.body, 'Broken JSON encoding.');
        }
      }
      // The session is unharmed.
      assert.equal((await POST(`${transUrl}/xhr_send`, { body: '["fine"]' })).status, 204);
      assert.equal((await POST(`${transUrl}/xhr`)).body, 'a["fine"]\n');
    });

    it('round-trips characters outside the BMP', async () => {
      const transUrl = base + newSession();
      assert.equal((await POST(`${transUrl}/xhr`)).body, 'o\n');
      const messages = ['\u{1F600}', 'a\u{10FFFF}b', '\u{1D11E}\u2028x'];
      assert.equal((await POST(`${transUrl}/xhr_send`, { body: JSON.stringify(messages) })).status, 204);
      const r = await POST(`${transUrl}/xhr`);
      assert.equal(r.status, 200);
      assert.deepEqual(parseMessages(r.body), messages);
    });
  });
});

describe('heartbeat frames', () => {
  let server: ConformanceServer;
  let base: string;

  before(async () => {
    server = await startConformanceServer({ heartbeatDelay: 200, disconnectDelay: 1000 });
    base = `${server.url}/echo`;
  });

  after(async () => {
    await server.close();
  });

  async function withStream(
    method: string,
    url: string,
    body: (s: StreamingResponse) => Promise<void>,
  ): Promise<void> {
    const s = await stream(method, url);
    try {
      await body(s);
    } finally {
      s.close();
    }
  }

  it('ends an idle xhr poll with h after heartbeatDelay', async () => {
    const transUrl = base + newSession();
    assert.equal((await POST(`${transUrl}/xhr`)).body, 'o\n');
    const started = Date.now();
    const r = await POST(`${transUrl}/xhr`);
    assert.equal(r.status, 200);
    assert.equal(r.body, 'h\n');
    assert.ok(Date.now() - started >= 150, 'the heartbeat is not sent before heartbeatDelay');
  });

  it('sends h on an idle xhr_streaming response, repeatedly', async () => {
    await withStream('POST', `${base}${newSession()}/xhr_streaming`, async (s) => {
      assert.equal(s.status, 200);
      assert.equal(await s.read(), 'h'.repeat(2048) + '\n');
      assert.equal(await s.read(), 'o\n');
      assert.equal(await s.read(), 'h\n');
      assert.equal(await s.read(), 'h\n');
    });
  });

  it('sends h on an idle eventsource response', async () => {
    await withStream('GET', `${base}${newSession()}/eventsource`, async (s) => {
      assert.equal(s.status, 200);
      assert.equal(await s.read(), '\r\n');
      assert.equal(await s.read(), 'data: o\r\n\r\n');
      assert.equal(await s.read(), 'data: h\r\n\r\n');
    });
  });

  it('sends h on an idle htmlfile response', async () => {
    await withStream('GET', `${base}${newSession()}/htmlfile?c=callback`, async (s) => {
      assert.equal(s.status, 200);
      assert.ok(((await s.read()) ?? '').length > 1024);
      assert.equal(await s.read(), '<script>\np("o");\n</script>\r\n');
      assert.equal(await s.read(), '<script>\np("h");\n</script>\r\n');
    });
  });

  it('ends an idle jsonp poll with h', async () => {
    const transUrl = base + newSession();
    assert.equal((await GET(`${transUrl}/jsonp?c=x`)).body, '/**/x("o");\r\n');
    const r = await GET(`${transUrl}/jsonp?c=x`);
    assert.equal(r.status, 200);
    assert.equal(r.body, '/**/x("h");\r\n');
  });
});
