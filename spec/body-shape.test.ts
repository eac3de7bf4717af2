import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import express from 'express';
import { attachUpgrade, sockjsMiddleware } from '../lib/index';
import { listen, type TestServer } from './helpers/server';
import { POST } from './helpers/http';
import { WsClient } from './helpers/websocket';

const SIZE = 512 * 1024;

/** Payloads nested deeper than any client payload may be, each about SIZE bytes. */
const NESTED: ReadonlyArray<[string, string]> = [
  ['open brackets', '['.repeat(SIZE)],
  ['balanced brackets', '['.repeat(SIZE / 2) + ']'.repeat(SIZE / 2)],
  ['objects in arrays', '[{"a":'.repeat(SIZE / 6)],
  ['balanced objects', '[{"a":'.repeat(SIZE / 8) + '0' + '}]'.repeat(SIZE / 8)],
  ['a message, then nesting', '["hello",' + '['.repeat(SIZE / 2) + ']'.repeat(SIZE / 2) + ']'],
];

describe('nested client payloads', () => {
  let server: TestServer;
  let base: string;
  before(async () => {
    // Room for the form-encoded bodies, three times their JSON.
    const service = sockjsMiddleware({ disconnectDelay: 2000, maxBodySize: 4 * 1024 * 1024 });
    service.on('connection', (conn) => conn.on('data', (m: string) => conn.write(m)));
    const app = express();
    app.use('/echo', service);
    // A text body parsed by the app before the service sees it.
    const parsed = sockjsMiddleware({ disconnectDelay: 2000 });
    parsed.on('connection', (conn) => conn.on('data', (m: string) => conn.write(m)));
    app.use('/parsed', express.text({ type: '*/*', limit: '2mb' }), parsed);
    server = await listen(app);
    attachUpgrade(server.server);
    base = server.url;
  });
  after(() => server.close());

  async function openSession(prefix: string): Promise<string> {
    const path = `${base}${prefix}/000/${randomUUID()}`;
    assert.equal((await POST(`${path}/xhr`)).body, 'o\n');
    return path;
  }

  const SENDS: ReadonlyArray<[string, string, (body: string) => string, Record<string, string>]> = [
    ['xhr_send', '/echo', (body) => body, {}],
    ['jsonp_send', '/echo', (body) => body, { 'Content-Type': 'text/plain' }],
    [
      'jsonp_send',
      '/echo',
      (body) => 'd=' + encodeURIComponent(body),
      { 'Content-Type': 'application/x-www-form-urlencoded' },
    ],
    ['xhr_send', '/parsed', (body) => body, { 'Content-Type': 'text/plain' }],
  ];

  for (const [transport, prefix, encode, formHeaders] of SENDS) {
    let headers = formHeaders;
    const what = `${transport} (${prefix}, ${headers['Content-Type'] ?? 'no type'})`;
    it(`${what} answers 500 Broken JSON encoding. and the session goes on`, async () => {
      const path = await openSession(prefix);
      // jsonp_send is a form post: a page of the service's origin names itself in Referer.
      headers = { ...headers, Referer: `${new URL(path).origin}/chat.html` };
      for (const [name, body] of NESTED) {
        const r = await POST(`${path}/${transport}`, { body: encode(body), headers });
        assert.deepEqual([r.status, r.body], [500, 'Broken JSON encoding.'], name);
      }
      const good = await POST(`${path}/${transport}`, { body: encode('["still here"]'), headers });
      assert.ok(good.status === 204 || good.status === 200, String(good.status));
      assert.equal((await POST(`${path}/xhr`)).body, 'a["still here"]\n');
    });
  }

  it('the framed websocket closes with 3000 Broken framing. and the service goes on', async () => {
    for (const [name, body] of NESTED) {
      const ws = await WsClient.connect(`${base}/echo/000/${randomUUID()}/websocket`);
      try {
        assert.equal(await ws.recv(), 'o');
        ws.send(body);
        const closed = await ws.expectClose();
        assert.deepEqual([closed.code, closed.reason], [3000, 'Broken framing.'], name);
      } finally {
        await ws.close();
      }
    }
    const ws = await WsClient.connect(`${base}/echo/000/${randomUUID()}/websocket`);
    try {
      assert.equal(await ws.recv(), 'o');
      ws.send('["still here"]');
      assert.equal(await ws.recv(), 'a["still here"]');
    } finally {
      await ws.close();
    }
  });
});
