/**
 * Port of "XhrPolling" and "XhrStreaming" of sockjs-protocol 0.3.3 (xhr, xhr_send,
 * xhr_streaming, OPTIONS), plus the send-error rules of PROTOCOL.md section 4.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { startConformanceServer, type ConformanceServer } from '../helpers/conformance';
import { OPTIONS, POST, stream } from '../helpers/http';
import {
  newSession,
  verify404,
  verifyContentType,
  verifyCors,
  verifyNoCookie,
  verifyNotCached,
  verifyOptions,
} from '../helpers/protocol';

describe('xhr transports', () => {
  let server: ConformanceServer;
  let base: string;

  before(async () => {
    server = await startConformanceServer();
    base = `${server.url}/echo`;
  });

  after(async () => {
    await server.close();
  });

  describe('xhr_polling', () => {
    it('answers OPTIONS on xhr and xhr_send as a cacheable CORS preflight', async () => {
      for (const suffix of ['/xhr', '/xhr_send']) {
        await verifyOptions(`${base}/abc/abc${suffix}`, 'OPTIONS, POST');
      }
    });

    it('polls with uncached CORS javascript and sends with a 204 text/plain', async () => {
      const url = base + newSession();
      let r = await POST(`${url}/xhr`);
      assert.equal(r.status, 200);
      assert.equal(r.body, 'o\n');
      verifyContentType(r, 'application/javascript; charset=UTF-8');
      verifyCors(r);
      verifyNotCached(r);
      verifyNoCookie(r);

      r = await POST(`${url}/xhr_send`, { body: '["x"]' });
      assert.equal(r.status, 204);
      assert.equal(r.body, '');
      // text/plain even on a 204, or Firefox assumes XML and complains.
      verifyContentType(r, 'text/plain; charset=UTF-8');
      verifyCors(r);
      verifyNotCached(r);
      verifyNoCookie(r);

      r = await POST(`${url}/xhr`);
      assert.equal(r.status, 200);
      assert.equal(r.body, 'a["x"]\n');
    });

    it('echoes the Origin with credentials on xhr and xhr_send', async () => {
      const url = base + newSession();
      for (const origin of ['http://example.com', 'null']) {
        const headers = { Origin: origin };
        const r = await POST(`${url}/xhr`, { headers });
        assert.equal(r.status, 200);
        verifyCors(r, origin);
        const s = await POST(`${url}/xhr_send`, { headers, body: '["x"]' });
        assert.equal(s.status, 204);
        verifyCors(s, origin);
      }
    });

    it('answers xhr_send to an unknown session with 404', async () => {
      const r = await POST(`${base}${newSession()}/xhr_send`, { body: '["x"]' });
      verify404(r);
    });

    it('rejects broken or missing payloads with 500 and keeps the session working', async () => {
      const url = base + newSession();
      let r = await POST(`${url}/xhr`);
      assert.equal(r.status, 200);
      assert.equal(r.body, 'o\n');

      r = await POST(`${url}/xhr_send`, { body: '["x' });
      assert.equal(r.status, 500);
      assert.equal(r.body, 'Broken JSON encoding.');

      r = await POST(`${url}/xhr_send`, { body: '' });
      assert.equal(r.status, 500);
      assert.equal(r.body, 'Payload expected.');

      r = await POST(`${url}/xhr_send`, { body: '["a"]' });
      assert.equal(r.body, '');
      assert.equal(r.status, 204);

      r = await POST(`${url}/xhr`);
      assert.equal(r.body, 'a["a"]\n');
      assert.equal(r.status, 200);
    });

    it('rejects JSON that is not an array of strings with 500 Broken JSON encoding.', async () => {
      const url = base + newSession();
      assert.equal((await POST(`${url}/xhr`)).body, 'o\n');

      for (const body of ['{"a":"b"}', '"a"', '[1]', '["a",null]', 'null', '[["a"]]']) {
        const r = await POST(`${url}/xhr_send`, { body });
        assert.equal(r.status, 500, body);
        assert.equal(r.body, 'Broken JSON encoding.', body);
      }

      assert.equal((await POST(`${url}/xhr_send`, { body: '["still here"]' })).status, 204);
      const r = await POST(`${url}/xhr`);
      assert.equal(r.status, 200);
      assert.equal(r.body, 'a["still here"]\n');
    });

    it('accepts xhr_send with any Content-Type', async () => {
      const url = base + newSession();
      let r = await POST(`${url}/xhr`);
      assert.equal(r.body, 'o\n');

      const ctypes = [
        'text/plain',
        'T',
        'application/json',
        'application/xml',
        '',
        'application/json; charset=utf-8',
        'text/xml; charset=utf-8',
        'text/xml',
        'application/x-www-form-urlencoded',
      ];
      for (const ct of ctypes) {
        r = await POST(`${url}/xhr_send`, { body: '["a"]', headers: { 'Content-Type': ct } });
        assert.equal(r.status, 204, `Content-Type: ${ct}`);
        assert.equal(r.body, '');
      }

      r = await POST(`${url}/xhr`);
      assert.equal(r.status, 200);
      assert.equal(r.body, 'a[' + ctypes.map(() => '"a"').join(',') + ']\n');
    });

    it('echoes Access-Control-Request-Headers only when it is non-empty', async () => {
      let r = await OPTIONS(`${base}${newSession()}/xhr`, {
        headers: { 'Access-Control-Request-Headers': 'a, b, c' },
      });
      assert.ok(r.status === 204 || r.status === 200);
      verifyCors(r);
      assert.equal(r.headers['access-control-allow-headers'], 'a, b, c');

      r = await OPTIONS(`${base}${newSession()}/xhr`, { headers: { 'Access-Control-Request-Headers': '' } });
      assert.ok(r.status === 204 || r.status === 200);
      verifyCors(r);
      assert.equal(r.headers['access-control-allow-headers'], undefined);

      r = await OPTIONS(`${base}${newSession()}/xhr`);
      assert.ok(r.status === 204 || r.status === 200);
      verifyCors(r);
      assert.equal(r.headers['access-control-allow-headers'], undefined);
    });

    it('lets a send work while a poll is waiting', async () => {
      const url = base + newSession();
      assert.equal((await POST(`${url}/xhr`)).body, 'o\n');
      const poll = POST(`${url}/xhr`);
      poll.catch(() => undefined); // awaited below; never an unhandled rejection
      const sent = await POST(`${url}/xhr_send`, { body: '["p"]' });
      assert.equal(sent.status, 204);
      const r = await poll;
      assert.equal(r.body, 'a["p"]\n');
    });
  });

  describe('xhr_streaming', () => {
    it('answers OPTIONS as a cacheable CORS preflight', async () => {
      await verifyOptions(`${base}/abc/abc/xhr_streaming`, 'OPTIONS, POST');
    });

    it('streams a 2 KiB h prelude, then each frame as its own chunk', async () => {
      const url = base + newSession();
      const r = await stream('POST', `${url}/xhr_streaming`);
      try {
        assert.equal(r.status, 200);
        verifyContentType(r, 'application/javascript; charset=UTF-8');
        verifyCors(r);
        verifyNotCached(r);
        verifyNoCookie(r);

        assert.equal(await r.read(), 'h'.repeat(2048) + '\n');
        assert.equal(await r.read(), 'o\n');

        const r1 = await POST(`${url}/xhr_send`, { body: '["x"]' });
        assert.equal(r1.status, 204);
        assert.equal(r1.body, '');
        assert.equal(await r.read(), 'a["x"]\n');

        // Several messages in one send may go out in one frame or in several.
        const r2 = await POST(`${url}/xhr_send`, { body: '["y","z"]' });
        assert.equal(r2.status, 204);
        const received: unknown[] = [];
        while (received.length < 2) {
          const frame = await r.read();
          assert.ok(frame !== null && frame.startsWith('a[') && frame.endsWith(']\n'), JSON.stringify(frame));
          const messages: unknown = JSON.parse(frame.slice(1, -1));
          assert.ok(Array.isArray(messages));
          received.push(...messages);
        }
        assert.deepEqual(received, ['y', 'z']);
      } finally {
        r.close();
      }
    });

    it('echoes the Origin with credentials', async () => {
      const r = await stream('POST', `${base}${newSession()}/xhr_streaming`, {
        headers: { Origin: 'http://example.com' },
      });
      try {
        assert.equal(r.status, 200);
        verifyCors(r, 'http://example.com');
      } finally {
        r.close();
      }
    });

    it('ends the response after responseLimit bytes', async () => {
      const url = base + newSession();
      const r = await stream('POST', `${url}/xhr_streaming`);
      try {
        assert.equal(r.status, 200);
        assert.ok(await r.read()); // prelude
        assert.equal(await r.read(), 'o\n');

        // The test server ends a streaming response once 4096 bytes of frames were sent.
        const msg = '"' + 'x'.repeat(128) + '"';
        for (let i = 0; i < 31; i++) {
          const r1 = await POST(`${url}/xhr_send`, { body: `[${msg}]` });
          assert.equal(r1.status, 204);
          assert.equal(await r.read(), `a[${msg}]\n`, `frame ${i + 1}`);
        }

        // The response ends after enough data was delivered.
        assert.equal(await r.read(), null);
      } finally {
        r.close();
      }
    });

    it('lets the session continue on a new request after the response limit', async () => {
      const url = base + newSession();
      const r = await stream('POST', `${url}/xhr_streaming`);
      try {
        await r.read(); // prelude
        assert.equal(await r.read(), 'o\n');
        const big = 'y'.repeat(4096);
        assert.equal((await POST(`${url}/xhr_send`, { body: `["${big}"]` })).status, 204);
        assert.equal(await r.read(), `a["${big}"]\n`);
        assert.equal(await r.read(), null);
      } finally {
        r.close();
      }

      assert.equal((await POST(`${url}/xhr_send`, { body: '["after"]' })).status, 204);
      const next = await stream('POST', `${url}/xhr_streaming`);
      try {
        assert.equal(await next.read(), 'h'.repeat(2048) + '\n');
        assert.equal(await next.read(), 'a["after"]\n');
      } finally {
        next.close();
      }
    });
  });
});
