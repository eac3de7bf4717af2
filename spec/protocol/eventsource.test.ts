/**
 * Port of "EventSource" of sockjs-protocol 0.3.3, plus PROTOCOL.md section 4:
 * exact `text/event-stream`, CORS, and percent-escaping of `%`, `\r`, `\n`, `\x00`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { startConformanceServer, type ConformanceServer } from '../helpers/conformance';
import { POST, stream, type StreamingResponse } from '../helpers/http';
import {
  collectMessages,
  newSession,
  verifyContentType,
  verifyCors,
  verifyNoCookie,
  verifyNotCached,
} from '../helpers/protocol';

describe('eventsource', () => {
  let server: ConformanceServer;
  let base: string;

  before(async () => {
    server = await startConformanceServer();
    base = `${server.url}/echo`;
  });

  after(async () => {
    await server.close();
  });

  async function open(url: string, headers?: Record<string, string>): Promise<StreamingResponse> {
    const r = await stream('GET', `${url}/eventsource`, headers === undefined ? {} : { headers });
    try {
      assert.equal(r.status, 200);
      // A prelude of a new line, for an old Opera bug.
      assert.equal(await r.read(), '\r\n');
      assert.equal(await r.read(), 'data: o\r\n\r\n');
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

  it('streams uncached event-stream data lines after a CRLF prelude', async () => {
    const url = base + newSession();
    const r = await stream('GET', `${url}/eventsource`);
    try {
      assert.equal(r.status, 200);
      verifyContentType(r, 'text/event-stream');
      // Requested with GET: it must never be cached.
      verifyNotCached(r);
      verifyCors(r);
      verifyNoCookie(r);

      assert.equal(await r.read(), '\r\n');
      assert.equal(await r.read(), 'data: o\r\n\r\n');

      await send(url, '["x"]');
      assert.equal(await r.read(), 'data: a["x"]\r\n\r\n');

      // Leading spaces, new lines and NUL are JSON-escaped inside the frame.
      await send(url, String.raw`["  \u0000\n\r "]`);
      assert.equal(await r.read(), 'data: a["  \\u0000\\n\\r "]\r\n\r\n');
    } finally {
      r.close();
    }
  });

  it('echoes the Origin with credentials', async () => {
    const url = base + newSession();
    const r = await stream('GET', `${url}/eventsource`, { headers: { Origin: 'http://example.com' } });
    try {
      assert.equal(r.status, 200);
      verifyCors(r, 'http://example.com');
    } finally {
      r.close();
    }
  });

  it('percent-escapes % so the client URI-decode gives back the message', async () => {
    const url = base + newSession();
    const r = await open(url);
    try {
      await send(url, '["100%41"]');
      assert.equal(await r.read(), 'data: a["100%2541"]\r\n\r\n');
      await send(url, '["%%"]');
      assert.equal(await r.read(), 'data: a["%25%25"]\r\n\r\n');
      await send(url, '["a%0Ab"]');
      assert.equal(await r.read(), 'data: a["a%250Ab"]\r\n\r\n');
    } finally {
      r.close();
    }
  });

  it('keeps data lines free of raw CR, LF and NUL for any message', async () => {
    const url = base + newSession();
    const r = await open(url);
    try {
      const messages = ['\r', '\n', '\x00', '\r\n\r\n', 'x\u2028y\u2029z', '%0D%0A'];
      await send(url, JSON.stringify(messages));
      const received = await collectMessages(async () => {
        const event = await r.read();
        assert.ok(event !== null, 'the response ended early');
        assert.ok(event.startsWith('data: ') && event.endsWith('\r\n\r\n'), JSON.stringify(event));
        const data = event.slice('data: '.length, -4);
        assert.doesNotMatch(data, /[\r\n\x00]/);
        // What the client does: URI-decode the event data, then parse the frame.
        return decodeURIComponent(data);
      }, messages.length);
      assert.deepEqual(received, messages);
    } finally {
      r.close();
    }
  });

  it('ends the response after responseLimit bytes', async () => {
    const url = base + newSession();
    const r = await open(url);
    try {
      // The test server ends a streaming response once 4096 bytes were sent.
      const msg = '"' + 'x'.repeat(4096) + '"';
      await send(url, `[${msg}]`);
      assert.equal(await r.read(), `data: a[${msg}]\r\n\r\n`);
      // The response ends after enough data was delivered.
      assert.equal(await r.read(), null);
    } finally {
      r.close();
    }
  });
});
