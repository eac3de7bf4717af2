/**
 * Port of "HtmlFile" of sockjs-protocol 0.3.3, plus PROTOCOL.md section 4: HTML-safe
 * frames and callback validation.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { startConformanceServer, type ConformanceServer } from '../helpers/conformance';
import { GET, POST, stream, type StreamingResponse } from '../helpers/http';
import {
  collectMessages,
  newSession,
  verifyContentType,
  verifyNoCookie,
  verifyNotCached,
} from '../helpers/protocol';

function head(callback: string): string {
  return `<!doctype html>
<html><head>
  <meta http-equiv="X-UA-Compatible" content="IE=edge" />
  <meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
</head><body><h2>Don't panic!</h2>
  <script>
    document.domain = document.domain;
    var c = parent.${callback};
    c.start();
    function p(d) {c.message(d);};
    window.onload = function() {c.stop();};
  </script>`;
}

describe('htmlfile', () => {
  let server: ConformanceServer;
  let base: string;

  before(async () => {
    server = await startConformanceServer();
    base = `${server.url}/echo`;
  });

  after(async () => {
    await server.close();
  });

  async function open(url: string, callback = 'callback'): Promise<StreamingResponse> {
    const r = await stream('GET', `${url}/htmlfile?c=${callback}`);
    try {
      assert.equal(r.status, 200);
      const page = await r.read();
      assert.ok(page !== null);
      assert.equal(page.trim(), head(callback));
      assert.equal(await r.read(), '<script>\np("o");\n</script>\r\n');
    } catch (err) {
      r.close();
      throw err;
    }
    return r;
  }

  async function send(url: string, body: string): Promise<void> {
    const r = await POST(`${url}/xhr_send`, { body });
    assert.equal(r.body, '');
    assert.equal(r.status, 204);
  }

  it('streams an uncached page padded past 1 KiB, then one script block per frame', async () => {
    const url = base + newSession();
    const r = await stream('GET', `${url}/htmlfile?c=%63allback`);
    try {
      assert.equal(r.status, 200);
      verifyContentType(r, 'text/html; charset=UTF-8');
      // Requested with GET: it must never be cached.
      verifyNotCached(r);
      verifyNoCookie(r);

      const d = await r.read();
      assert.ok(d !== null);
      assert.equal(d.trim(), head('callback'));
      assert.ok(Buffer.byteLength(d) > 1024, `the page is ${Buffer.byteLength(d)} bytes, must be over 1024`);
      assert.match(d.slice(head('callback').length), /^\s*$/, 'the page is padded with whitespace');
      assert.equal(await r.read(), '<script>\np("o");\n</script>\r\n');

      await send(url, '["x"]');
      assert.equal(await r.read(), '<script>\np("a[\\"x\\"]");\n</script>\r\n');
    } finally {
      r.close();
    }
  });

  it('writes <, > and & as \\u003c, \\u003e and \\u0026 so a message cannot end the script', async () => {
    const url = base + newSession();
    const r = await open(url);
    try {
      await send(url, '["</script><b>&amp;"]');
      assert.equal(
        await r.read(),
        '<script>\np("a[\\"\\u003c/script\\u003e\\u003cb\\u003e\\u0026amp;\\"]");\n</script>\r\n',
      );
    } finally {
      r.close();
    }
  });

  it('keeps every frame free of raw <, > and & for any message', async () => {
    const url = base + newSession();
    const r = await open(url);
    try {
      const messages = ['<!--', '-->', '<script>alert(1)</script>', '&lt;', '\u2028', 'a"b\\c'];
      await send(url, JSON.stringify(messages));
      const received = await collectMessages(async () => {
        const block = await r.read();
        assert.ok(block !== null, 'the response ended early');
        const m = /^<script>\np\((.*)\);\n<\/script>\r\n$/s.exec(block);
        assert.ok(m !== null, JSON.stringify(block));
        const arg = m[1] ?? '';
        assert.doesNotMatch(arg, /[<>&]/);
        const frame: unknown = JSON.parse(arg);
        assert.ok(typeof frame === 'string', 'p() is called with a string');
        return frame;
      }, messages.length);
      assert.deepEqual(received, messages);
    } finally {
      r.close();
    }
  });

  it('accepts the old callback parameter name and callbacks using . _ -', async () => {
    const url = base + newSession();
    const r = await stream('GET', `${url}/htmlfile?callback=a.b_c-1`);
    try {
      assert.equal(r.status, 200);
      const page = await r.read();
      assert.equal(page?.trim(), head('a.b_c-1'));
      assert.equal(await r.read(), '<script>\np("o");\n</script>\r\n');
    } finally {
      r.close();
    }
  });

  it('accepts a 32-character callback', async () => {
    const callback = 'c'.repeat(32);
    const r = await open(base + newSession(), callback);
    r.close();
  });

  it('answers a missing callback with 500 "callback" parameter required', async () => {
    const r = await GET(`${base}/a/a/htmlfile`);
    assert.equal(r.status, 500);
    assert.equal(r.body, '"callback" parameter required');
  });

  it('answers an unsafe or over-long callback with 500 invalid "callback" parameter', async () => {
    for (const callback of [
      '%3Cscript%3E',
      'a(b)',
      'alert(1)%3B',
      'a%20b',
      'a%2Fb',
      'c'.repeat(33),
      '%C3%A9',
      'a%22',
    ]) {
      const r = await GET(`${base}${newSession()}/htmlfile?c=${callback}`);
      assert.equal(r.status, 500, callback);
      assert.equal(r.body, 'invalid "callback" parameter', callback);
    }
  });

  it('ends the response after responseLimit bytes', async () => {
    const url = base + newSession();
    const r = await open(url);
    try {
      // The test server ends a streaming response once 4096 bytes were sent.
      const msg = 'x'.repeat(4096);
      await send(url, `["${msg}"]`);
      assert.equal(await r.read(), `<script>\np("a[\\"${msg}\\"]");\n</script>\r\n`);
      // The response ends after enough data was delivered.
      assert.equal(await r.read(), null);
    } finally {
      r.close();
    }
  });
});
