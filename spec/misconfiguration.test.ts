/**
 * Mistakes in wiring a service up fail at once, or are said once, in a sentence that names
 * the fix: attachUpgrade() given something other than the HTTP server, and a server whose
 * WebSocket upgrades never reach attachUpgrade().
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import express from 'express';
import connect from 'connect';
import WebSocket from 'ws';
import { attachUpgrade, sockjsMiddleware, type LogSeverity } from '../lib/index';
import { listen, type TestServer } from './helpers/server';
import { GET } from './helpers/http';
import { ClientHarness, STEP_TIMEOUT_MS, within } from './helpers/sockjs-client';
import { toWsUrl } from './helpers/websocket';

const NEEDS_SERVER = 'sockjs: attachUpgrade needs the http.Server that app.listen() returns';
const WRITE_INSTEAD = 'write attachUpgrade(app.listen(8080))';

describe('attachUpgrade() given something other than an HTTP server', () => {
  it('says it got an Express application, and what to write instead', () => {
    assert.throws(() => attachUpgrade(express() as never), {
      name: 'TypeError',
      message: `${NEEDS_SERVER}, got an Express application; ${WRITE_INSTEAD}`,
    });
  });

  it('says it got nothing when called without an argument', () => {
    assert.throws(() => (attachUpgrade as () => void)(), {
      name: 'TypeError',
      message: `${NEEDS_SERVER}, got undefined; ${WRITE_INSTEAD}`,
    });
  });

  it('names a Connect application, a router and other values', () => {
    const service = sockjsMiddleware();
    const cases: [unknown, string][] = [
      [connect(), 'a Connect application'],
      [service, 'a router'],
      [express.Router(), 'a router'],
      [null, 'null'],
      [8080, 'the number 8080'],
      [{ on: () => undefined }, 'an object'],
    ];
    for (const [given, what] of cases) {
      assert.throws(() => attachUpgrade(given as never), {
        name: 'TypeError',
        message: `${NEEDS_SERVER}, got ${what}; ${WRITE_INSTEAD}`,
      });
    }
    assert.throws(() => (service.attachUpgrade as () => void)(), { message: /got undefined/ });
  });

  it('takes http and https servers', () => {
    attachUpgrade(createServer());
    attachUpgrade(createHttpsServer());
  });
});

describe('a WebSocket upgrade on a server without attachUpgrade()', () => {
  let server: TestServer;
  const lines: { severity: LogSeverity; message: string }[] = [];
  const attachLines = (): string[] =>
    lines.filter(({ message }) => message.includes('attachUpgrade')).map(({ message }) => message);

  before(async () => {
    const echo = sockjsMiddleware({ log: (severity, message) => lines.push({ severity, message }) });
    echo.on('connection', (conn) => conn.on('data', (message: string) => conn.write(message)));
    const app = express();
    app.use('/echo', echo);
    // No attachUpgrade(): Node emits the upgrades as plain 'request's to the app.
    server = await listen(createServer(app));
  });

  after(() => server.close());

  /** The status and body a WebSocket handshake to `path` is answered with. */
  function handshake(path: string): Promise<{ status: number; body: string }> {
    return within(
      new Promise((resolve, reject) => {
        const ws = new WebSocket(toWsUrl(server.url + path));
        ws.on('unexpected-response', (_req, res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        ws.on('open', () => reject(new Error('the upgrade went through')));
        ws.on('error', () => undefined);
      }),
      STEP_TIMEOUT_MS,
      'the handshake answer',
    );
  }

  it('is answered 400 with a body that names the fix, and logged once per service', async () => {
    for (const path of ['/echo/websocket', '/echo/000/abc/websocket']) {
      assert.deepEqual(await handshake(path), {
        status: 400,
        body: 'WebSocket upgrades need attachUpgrade(server) on this HTTP server.',
      });
    }
    assert.equal(attachLines().length, 1, 'said once');
    assert.equal(lines.find(({ message }) => message.includes('attachUpgrade'))?.severity, 'error');
    assert.match(attachLines()[0] ?? '', /service at \/echo .*call attachUpgrade\(server\)/);
  });

  it('leaves a plain GET on the websocket URL with the protocol answer', async () => {
    const plain = await GET(`${server.url}/echo/websocket`);
    assert.equal(plain.status, 400);
    assert.equal(plain.body, 'Can "Upgrade" only to "WebSocket".');
  });

  it('fails a websocket-only sockjs-client, with the log line to say why', async () => {
    const client = new ClientHarness(`${server.url}/echo`, { transports: ['websocket'] });
    await assert.rejects(client.open(), /client closed before opening/);
    assert.equal(attachLines().length, 1);
  });

  for (const transport of ['xhr-streaming', 'xhr-polling', 'eventsource'] as const) {
    it(`still serves ${transport}`, async () => {
      const client = new ClientHarness(`${server.url}/echo`, { transports: [transport] });
      try {
        await client.open();
        assert.equal(client.client.transport, transport);
        client.client.send('still here');
        assert.equal(await client.nextMessage(), 'still here');
      } finally {
        await client.close();
      }
    });
  }
});
