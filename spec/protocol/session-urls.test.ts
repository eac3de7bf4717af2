/**
 * Port of "Session URLs" of sockjs-protocol 0.3.3, plus the 405 rule of PROTOCOL.md
 * section 2.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { startConformanceServer, type ConformanceServer } from '../helpers/conformance';
import { GET, POST, request } from '../helpers/http';
import { newSession, verify404, verify405 } from '../helpers/protocol';

describe('session urls', () => {
  let server: ConformanceServer;
  let base: string;

  before(async () => {
    server = await startConformanceServer();
    base = `${server.url}/echo`;
  });

  after(async () => {
    await server.close();
  });

  it('accepts any value in the server and session parts', async () => {
    // Each of these literal ids is used by this test only, on this file's own server.
    for (const sessionPart of ['/a/a', '/_/_', '/1/1', '/abcdefgh_i-j%20/abcdefg_i-j%20']) {
      const r = await POST(`${base}${sessionPart}/xhr`);
      assert.equal(r.status, 200, sessionPart);
      assert.equal(r.body, 'o\n', sessionPart);
    }
  });

  it('answers empty parts, dots, and too few or too many parts with 404', async () => {
    for (const suffix of ['//', '/a./a', '/a/a.', '/./.', '/', '///', '/./././.', '/a/a/a']) {
      verify404(await GET(`${base}${suffix}/xhr`), `GET ${suffix}/xhr`);
      verify404(await POST(`${base}${suffix}/xhr`), `POST ${suffix}/xhr`);
    }
  });

  it('identifies a session by its session id alone, ignoring the server id', async () => {
    const sessionId = randomUUID();
    let r = await POST(`${base}/000/${sessionId}/xhr`);
    assert.equal(r.status, 200);
    assert.equal(r.body, 'o\n');

    r = await POST(`${base}/000/${sessionId}/xhr_send`, { body: '["a"]' });
    assert.equal(r.status, 204);
    assert.equal(r.body, '');

    r = await POST(`${base}/999/${sessionId}/xhr`);
    assert.equal(r.status, 200);
    assert.equal(r.body, 'a["a"]\n');
  });

  it('answers unknown transports with 404', async () => {
    const session = newSession();
    for (const transport of ['xhr_foo', 'XHR', 'xhr_streaming_', 'websocketx']) {
      verify404(await POST(`${base}${session}/${transport}`), transport);
      verify404(await GET(`${base}${session}/${transport}`), transport);
    }
  });

  it('answers a known transport path with the wrong method with 405, Allow and no body', async () => {
    const cases: ReadonlyArray<readonly [method: string, transport: string, allowed: string]> = [
      ['GET', 'xhr', 'POST'],
      ['PUT', 'xhr', 'POST'],
      ['GET', 'xhr_send', 'POST'],
      ['GET', 'xhr_streaming', 'POST'],
      ['POST', 'eventsource', 'GET'],
      ['POST', 'htmlfile', 'GET'],
      ['POST', 'jsonp', 'GET'],
      ['GET', 'jsonp_send', 'POST'],
    ];
    for (const [method, transport, allowed] of cases) {
      const r = await request(method, `${base}${newSession()}/${transport}`);
      verify405(r, allowed);
    }
  });
});
