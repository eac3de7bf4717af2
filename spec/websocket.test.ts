import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import WebSocket, { WebSocketServer } from 'ws';
import { attachUpgrade, sockjsMiddleware, type SockjsOptions } from '../lib/index';
import type { Connection } from '../lib/session/connection';
import { delay, listen, until, type TestServer } from './helpers/server';
import { GET, POST, RawConnection } from './helpers/http';
import { WsClient } from './helpers/websocket';
import { asciiSpecials } from './helpers/protocol';

function echoService(options: SockjsOptions = {}, seen: Connection[] = []) {
  const service = sockjsMiddleware(options);
  service.on('connection', (conn) => {
    seen.push(conn);
    conn.on('data', (message: string) => {
      if (message === 'close please') conn.close(3003, 'As you wish');
      else conn.write(message);
    });
  });
  return service;
}

/** A websocket upgrade answered with an HTTP error: status, headers and body. */
function rejectedUpgrade(url: string, headers: Record<string, string> = {}) {
  return new Promise<{
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: string;
  }>((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws'), { headers });
    ws.on('open', () => {
      ws.terminate();
      reject(new Error('the upgrade was accepted'));
    });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    ws.on('error', reject);
  });
}

/** Resolves once the client's websocket is open. */
function opened(ws: WebSocket): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
}

describe('websocket transports', () => {
  let server: TestServer;
  const seen: Connection[] = [];
  const closes = new Map<Connection, number>();

  before(async () => {
    const app = express();
    const service = echoService({ heartbeatDelay: 200, disconnectDelay: 200 }, seen);
    service.on('connection', (conn) => {
      closes.set(conn, 0);
      conn.on('close', () => closes.set(conn, (closes.get(conn) ?? 0) + 1));
    });
    app.use('/echo', service);
    app.use('/nows', echoService({ websocket: false }));
    app.use('/cookie', echoService({ jsessionid: true }));
    const httpServer = createServer(app);
    attachUpgrade(httpServer);
    attachUpgrade(httpServer);
    server = await listen(httpServer);
  });
  after(() => server.close());

  describe('the handshake', () => {
    it('answers 101 with the RFC 6455 accept key', async () => {
      const key = Buffer.from(randomUUID().slice(0, 16)).toString('base64');
      const conn = await RawConnection.connect(server.url);
      try {
        const head = await conn.request('GET', `/echo/000/${randomUUID()}/websocket`, {
          headers: {
            Upgrade: 'websocket',
            Connection: 'Upgrade',
            'Sec-WebSocket-Key': key,
            'Sec-WebSocket-Version': '13',
          },
        });
        assert.equal(head.status, 101);
        const expected = createHash('sha1')
          .update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11')
          .digest('base64');
        assert.equal(head.headers['sec-websocket-accept'], expected);
        assert.equal(head.headers['set-cookie'], undefined);
        // The first websocket frame: FIN + text, length 1, "o".
        assert.deepEqual([...(await conn.readBytes(3))], [0x81, 0x01, 0x6f]);
      } finally {
        conn.close();
      }
    });

    it('sends the 101 and the open frame in one write', async () => {
      const { port } = new URL(server.url);
      const socket = connect(Number(port), '127.0.0.1');
      try {
        const first = new Promise<Buffer>((resolve, reject) => {
          socket.once('data', resolve);
          socket.once('error', reject);
        });
        socket.write(
          `GET /echo/000/${randomUUID()}/websocket HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n` +
            'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
        );
        const chunk = await first;
        assert.match(chunk.toString('latin1'), /^HTTP\/1\.1 101 /);
        assert.ok(
          chunk.subarray(-3).equals(Buffer.from([0x81, 0x01, 0x6f])),
          'the o frame follows the headers',
        );
      } finally {
        socket.destroy();
      }
    });

    it('only upgrades version 13', async () => {
      const conn = await RawConnection.connect(server.url);
      try {
        const head = await conn.request('GET', `/echo/000/${randomUUID()}/websocket`, {
          headers: {
            Upgrade: 'websocket',
            Connection: 'Upgrade',
            'Sec-WebSocket-Key': Buffer.from('0123456789abcdef').toString('base64'),
            'Sec-WebSocket-Version': '8',
          },
        });
        assert.equal(head.status, 400);
        assert.equal(head.headers['sec-websocket-version'], '13');
        await conn.readBytes(Number(head.headers['content-length']));
        assert.equal(await conn.closedWithin(1000), true, 'the socket is closed after the answer');
      } finally {
        conn.close();
      }
    });

    it('answers a plain GET with 400 and a reason', async () => {
      for (const path of [`/echo/000/${randomUUID()}/websocket`, '/echo/websocket']) {
        const r = await GET(server.url + path);
        assert.equal(r.status, 400);
        assert.equal(r.body, 'Can "Upgrade" only to "WebSocket".');
      }
      const r = await GET(`${server.url}/echo/0/0/websocket`, {
        headers: { Upgrade: 'WebSocket', Connection: 'close' },
      });
      assert.equal(r.status, 400);
      assert.equal(r.body, '"Connection" must be "Upgrade".');
    });

    it('answers POST with 405, Allow: GET and no body', async () => {
      for (const path of [`/echo/000/${randomUUID()}/websocket`, '/echo/websocket']) {
        const r = await POST(server.url + path);
        assert.equal(r.status, 405);
        assert.equal(r.headers['allow'], 'GET');
        assert.equal(r.headers['content-type'], undefined);
        assert.equal(r.body, '');
      }
    });

    it('sets JSESSIONID on the 101 when the option is on', async () => {
      const ws = new WebSocket(`${server.url.replace('http', 'ws')}/cookie/0/${randomUUID()}/websocket`, {
        headers: { Cookie: 'JSESSIONID=abc123' },
      });
      const cookie = await new Promise<string | string[] | undefined>((resolve, reject) => {
        ws.on('upgrade', (res) => resolve(res.headers['set-cookie']));
        ws.on('error', reject);
      });
      ws.terminate();
      assert.deepEqual(cookie, ['JSESSIONID=abc123; path=/']);
    });

    it('answers 404 on both URLs when websocket is disabled, and info says so', async () => {
      for (const path of [`/nows/000/${randomUUID()}/websocket`, '/nows/websocket']) {
        assert.equal((await rejectedUpgrade(server.url + path)).status, 404);
        assert.equal((await GET(server.url + path)).status, 404);
      }
      assert.equal(JSON.parse((await GET(`${server.url}/nows/info`)).body).websocket, false);
    });
  });

  describe('framed (BASE/<server>/<session>/websocket)', () => {
    it('echoes arrays and single strings, ignoring empty frames and []', async () => {
      const ws = await WsClient.connect(`${server.url}/echo/000/${randomUUID()}/websocket`);
      try {
        assert.equal(await ws.recv(), 'o');
        ws.send('["a","b"]');
        const first = await ws.recv();
        const echoed = first === 'a["a","b"]' ? first : first + (await ws.recv());
        assert.ok(echoed === 'a["a","b"]' || echoed === 'a["a"]a["b"]', echoed);
        ws.send('');
        ws.send('[]');
        ws.send('"single"');
        assert.equal(await ws.recv(), 'a["single"]');
      } finally {
        await ws.close();
      }
    });

    it('ends the connection on broken JSON, and the application hears close', async () => {
      const ws = await WsClient.connect(`${server.url}/echo/000/${randomUUID()}/websocket`);
      assert.equal(await ws.recv(), 'o');
      const conn = seen[seen.length - 1];
      ws.send('["a');
      const closed = await ws.expectClose();
      assert.equal(closed.code, 3000);
      assert.equal(closed.reason, 'Broken framing.');
      await until(() => closes.get(conn) === 1, 1000, 'close on the server');
    });

    it('treats every websocket as its own session, even with one id', async () => {
      const url = `${server.url}/echo/000/${randomUUID()}/websocket`;
      const one = await WsClient.connect(url);
      const two = await WsClient.connect(url);
      try {
        assert.equal(await one.recv(), 'o');
        assert.equal(await two.recv(), 'o');
        one.send('["1"]');
        two.send('["2"]');
        assert.equal(await one.recv(), 'a["1"]');
        assert.equal(await two.recv(), 'a["2"]');
        await one.close();
        const again = await WsClient.connect(url);
        assert.equal(await again.recv(), 'o');
        await again.close();
      } finally {
        await one.close();
        await two.close();
      }
    });

    it('sends the close frame, then closes the websocket with that code', async () => {
      const ws = await WsClient.connect(`${server.url}/echo/000/${randomUUID()}/websocket`);
      assert.equal(await ws.recv(), 'o');
      const conn = seen[seen.length - 1];
      ws.send('["close please"]');
      assert.equal(await ws.recv(), 'c[3003,"As you wish"]');
      const { code, reason } = await ws.expectClose();
      assert.deepEqual({ code, reason }, { code: 3003, reason: 'As you wish' });
      await until(() => closes.get(conn) === 1, 1000, 'close on the server');
      assert.equal(conn.protocol, 'websocket');
      assert.equal(conn.remoteAddress, '127.0.0.1');
      assert.equal(conn.prefix, '/echo');
    });

    it('frames messages of every length class byte-exact, multi-byte text too', async () => {
      const ws = await WsClient.connect(`${server.url}/echo/000/${randomUUID()}/websocket`);
      try {
        assert.equal(await ws.recv(), 'o');
        // Around the 7-bit, 16-bit and 64-bit length forms, and the small-frame cutoff.
        const lengths = [
          0, 1, 118, 119, 120, 121, 122, 123, 500, 1010, 1020, 1030, 65525, 65530, 65531, 65540,
        ];
        const texts = lengths.flatMap((n) => ['x'.repeat(n), 'é'.repeat(n >> 1) + '😀'.repeat(n >> 3)]);
        for (const text of texts) {
          ws.send(JSON.stringify([text]));
          let frame = await ws.recv();
          while (frame === 'h') frame = await ws.recv();
          assert.deepEqual(JSON.parse(frame.slice(1)), [text], `a message of ${text.length} characters`);
        }
      } finally {
        await ws.close();
      }
    });

    it('answers the messages of one read in one frame, and a message alone in a frame of its own', async () => {
      const ws = new WebSocket(`${server.url.replace('http', 'ws')}/echo/000/${randomUUID()}/websocket`);
      const frames: string[] = [];
      ws.on('message', (data: Buffer) => {
        if (String(data) !== 'h') frames.push(String(data));
      });
      await opened(ws);
      try {
        await until(() => frames.length === 1, 2000, 'the open frame');
        // Two frames in one write: one read for the server on loopback.
        const socket = (ws as unknown as { _socket: import('node:net').Socket })._socket;
        socket.cork();
        ws.send('["one"]');
        ws.send('["two"]');
        socket.uncork();
        await until(() => frames.length === 2, 2000, 'the answer to both');
        ws.send('["three"]');
        await until(() => frames.length === 3, 2000, 'the answer to the third');
        await delay(20);
        assert.deepEqual(frames, ['o', 'a["one","two"]', 'a["three"]']);
      } finally {
        ws.terminate();
      }
    });

    it('frames a message written to many sessions in one tick exactly as for one, queued ones too', async () => {
      const clients: WsClient[] = [];
      const conns: Connection[] = [];
      try {
        for (let i = 0; i < 4; i++) {
          const count = seen.length;
          const ws = await WsClient.connect(`${server.url}/echo/000/${randomUUID()}/websocket`);
          clients.push(ws);
          assert.equal(await ws.recv(), 'o');
          await until(() => seen.length > count, 1000, 'the connection event');
          conns.push(seen[seen.length - 1]);
        }
        const next = async (ws: WsClient): Promise<string> => {
          let frame = await ws.recv();
          while (frame === 'h') frame = await ws.recv();
          return frame;
        };
        // Plain ASCII, escapes, SockJS's own escapes, multi-byte text, and a long message.
        for (const text of ['plain', 'quo"te\\n', 'line\u2028end', 'été 😀', 'x'.repeat(3000)]) {
          // The first session's message differs; the third has a second one queued after it.
          conns[0].write('other');
          for (const conn of conns.slice(1)) conn.write(text);
          conns[2].write('second');
          assert.equal(await next(clients[0]), 'a["other"]');
          const alone = await next(clients[1]);
          assert.deepEqual(JSON.parse(alone.slice(1)), [text]);
          assert.equal(await next(clients[3]), alone);
          assert.equal(await next(clients[2]), alone.slice(0, -1) + ',"second"]');
        }
      } finally {
        for (const ws of clients) await ws.close();
      }
    });

    it('frames ASCII byte-exact with every character JSON escapes, wherever it stands', async () => {
      const ws = await WsClient.connect(`${server.url}/echo/000/${randomUUID()}/websocket`);
      try {
        assert.equal(await ws.recv(), 'o');
        // Plain ASCII is framed and decoded straight as bytes, tested four bytes at a time:
        // each special character stands at every offset of a word, and near both ends.
        const batches: string[][] = [];
        for (const special of asciiSpecials()) {
          for (const at of [0, 1, 2, 3, 64, 65, 66, 67, 98, 99]) {
            batches.push(['x'.repeat(at) + special + 'y'.repeat(99 - at)]);
          }
        }
        batches.push(['plain', 'x'.repeat(300)], ['plain', 'quo"te', 'été'], ['x'.repeat(70000)]);
        for (const batch of batches) {
          ws.send(JSON.stringify(batch));
          let frame = await ws.recv();
          while (frame === 'h') frame = await ws.recv();
          assert.equal(frame, 'a' + JSON.stringify(batch));
        }
        // Unescaped DEL is valid JSON; as one message it takes the byte path in.
        ws.send('["a\x7fb"]');
        assert.equal(await ws.recv(), 'a["a\x7fb"]');
      } finally {
        await ws.close();
      }
    });

    // From 1 KiB on, a native search and a loop over words look for it.
    for (const length of [10, 200, 1024, 70_000]) {
      it(`ends the connection on a raw control character in ${length} characters`, async () => {
        const ws = await WsClient.connect(`${server.url}/echo/000/${randomUUID()}/websocket`);
        assert.equal(await ws.recv(), 'o');
        // JSON forbids it unescaped; a plain-looking ["..."] must not slip past the parser.
        ws.send('["' + 'x'.repeat(length - 1) + '\x01"]');
        const closed = await ws.expectClose();
        assert.deepEqual(
          { code: closed.code, reason: closed.reason },
          { code: 3000, reason: 'Broken framing.' },
        );
      });
    }

    it('sends h frames when idle for heartbeatDelay', async () => {
      const ws = await WsClient.connect(`${server.url}/echo/000/${randomUUID()}/websocket`);
      try {
        assert.equal(await ws.recv(), 'o');
        assert.equal(await ws.recv(1000), 'h');
        assert.equal(await ws.recv(1000), 'h');
      } finally {
        await ws.close();
      }
    });

    it('emits close once when the client goes away', async () => {
      const ws = await WsClient.connect(`${server.url}/echo/000/${randomUUID()}/websocket`);
      assert.equal(await ws.recv(), 'o');
      const conn = seen[seen.length - 1];
      await ws.close();
      await until(() => closes.get(conn) === 1, 1000, 'close on the server');
      await delay(300);
      assert.equal(closes.get(conn), 1);
      assert.equal(conn.write('gone'), false);
    });
  });

  describe('dead peers', () => {
    /** An open framed websocket that answers no ping, and the server's side of it. */
    async function silentPeer() {
      const url = `${server.url.replace('http', 'ws')}/echo/000/${randomUUID()}/websocket`;
      const ws = new WebSocket(url, { autoPong: false });
      ws.on('error', () => undefined);
      await opened(ws);
      await until(() => seen.length > 0 && seen[seen.length - 1].readyState === 1, 1000, 'open');
      return { ws, conn: seen[seen.length - 1] };
    }

    it('terminates a peer that stops answering pings', async () => {
      const { ws, conn } = await silentPeer();
      try {
        await until(() => closes.get(conn) === 1, 2000, 'the dead peer to be closed');
      } finally {
        ws.terminate();
      }
    });

    it('pings an idle peer with each heartbeat, once, in the same write', async () => {
      const ws = new WebSocket(`${server.url.replace('http', 'ws')}/echo/000/${randomUUID()}/websocket`);
      let pings = 0;
      const heartbeats: number[] = [];
      const chunks: Buffer[] = [];
      ws.on('ping', () => pings++);
      ws.on('message', (data) => {
        if (String(data) === 'h') heartbeats.push(pings);
      });
      await opened(ws);
      const socket = (ws as unknown as { _socket: import('node:net').Socket })._socket;
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      try {
        await until(() => heartbeats.length >= 3, 2000, 'three heartbeats');
        await delay(20);
        // Every heartbeat came with exactly one ping, and the sweep added none.
        assert.equal(pings, heartbeats.length);
        // The `h` text frame and the ping frame, side by side in one chunk.
        const both = Buffer.from([0x81, 0x01, 0x68, 0x89, 0x00]);
        assert.ok(chunks.some((chunk) => chunk.includes(both)));
      } finally {
        ws.terminate();
      }
    });

    it('pings with the heartbeat when permessage-deflate is in use too', async () => {
      const app = express();
      app.use(
        '/deflate',
        echoService({ heartbeatDelay: 100, websocketOptions: { perMessageDeflate: { threshold: 0 } } }),
      );
      const deflating = createServer(app);
      attachUpgrade(deflating);
      const local = await listen(deflating);
      const ws = new WebSocket(`${local.url.replace('http', 'ws')}/deflate/000/${randomUUID()}/websocket`);
      let pings = 0;
      const heartbeats: number[] = [];
      const echoed: string[] = [];
      ws.on('ping', () => pings++);
      ws.on('message', (data) => {
        const frame = String(data);
        if (frame === 'h') heartbeats.push(pings);
        else if (frame.startsWith('a')) echoed.push(...(JSON.parse(frame.slice(1)) as string[]));
      });
      try {
        await opened(ws);
        assert.equal(ws.extensions, 'permessage-deflate');
        await until(() => heartbeats.length >= 2, 2000, 'two heartbeats');
        ws.send(JSON.stringify(['compressed both ways']));
        await until(() => echoed.length === 1, 1000, 'the echo');
        await delay(20);
        assert.equal(pings, heartbeats.length);
        assert.deepEqual(echoed, ['compressed both ways']);
      } finally {
        ws.terminate();
        await local.close();
      }
    });

    it('finds a dead peer that never goes idle', async () => {
      const { ws, conn } = await silentPeer();
      // Written more often than heartbeatDelay: no heartbeat ever carries a ping here.
      const writer = setInterval(() => conn.write('busy'), 50);
      try {
        await until(() => closes.get(conn) === 1, 2000, 'the busy dead peer to be closed');
      } finally {
        clearInterval(writer);
        ws.terminate();
      }
    });

    it('keeps a peer that sends messages but answers no ping', async () => {
      const { ws, conn } = await silentPeer();
      const talker = setInterval(() => ws.send('["still here"]'), 60);
      try {
        await delay(1000);
        assert.equal(closes.get(conn), 0);
        assert.equal(conn.readyState, 1);
      } finally {
        clearInterval(talker);
        ws.terminate();
      }
    });
  });

  describe('raw (BASE/websocket)', () => {
    it('carries messages without framing', async () => {
      const ws = await WsClient.connect(`${server.url}/echo/websocket`);
      try {
        ws.send('plain text');
        assert.equal(await ws.recv(), 'plain text');
        ws.send('["not parsed"]');
        assert.equal(await ws.recv(), '["not parsed"]');
        const conn = seen[seen.length - 1];
        assert.equal(conn.protocol, 'websocket-raw');
      } finally {
        await ws.close();
      }
    });

    it('turns an application close into the websocket close code and reason', async () => {
      const ws = await WsClient.connect(`${server.url}/echo/websocket`);
      ws.send('close please');
      const { code, reason } = await ws.expectClose();
      assert.deepEqual({ code, reason }, { code: 3003, reason: 'As you wish' });
    });

    it('sends no heartbeat frames', async () => {
      const ws = await WsClient.connect(`${server.url}/echo/websocket`);
      try {
        await assert.rejects(ws.recv(500), /timed out/);
      } finally {
        await ws.close();
      }
    });
  });
});

describe('attachUpgrade', () => {
  it('answers 503 to an upgrade the app never answers, after upgradeTimeout', async () => {
    const app = express();
    // A check that never decides: no answer, no next().
    app.use((_req: Request, _res: Response, _next: NextFunction) => undefined);
    app.use('/echo', echoService());
    const server = await listen(createServer(app));
    attachUpgrade(server.server, { upgradeTimeout: 200 });
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/echo/websocket`);
        ws.on('unexpected-response', (_req, res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        ws.on('open', () => reject(new Error('the upgrade went through')));
        ws.on('error', reject);
      });
      // The default, 30 s, would outlast this test's own timeout.
      assert.equal(status, 503);
    } finally {
      await server.close();
    }
  });

  it('refuses what is not a server, and an upgradeTimeout that is no positive integer', () => {
    assert.throws(() => attachUpgrade(express() as never), /got an Express application/);
    const server = createServer();
    assert.throws(
      () => attachUpgrade(server, { upgradeTimeout: 0 }),
      /upgradeTimeout must be a positive integer/,
    );
    assert.throws(() => attachUpgrade(server, { upgradeTimeout: '5000' as never }), /got the string "5000"/);
  });

  it('reaches a service under two levels of nested routers', async () => {
    const app = express();
    const api = express.Router();
    const v1 = express.Router();
    const seen: Connection[] = [];
    v1.use('/chat', echoService({}, seen));
    api.use('/v1', v1);
    app.use('/api', api);
    const server = await listen(createServer(app));
    attachUpgrade(server.server);
    try {
      const ws = await WsClient.connect(`${server.url}/api/v1/chat/0/${randomUUID()}/websocket`);
      assert.equal(await ws.recv(), 'o');
      ws.send('["deep"]');
      assert.equal(await ws.recv(), 'a["deep"]');
      assert.equal(seen[0].prefix, '/api/v1/chat');
      await ws.close();
    } finally {
      await server.close();
    }
  });

  it('runs the app middleware first: an auth middleware that answers 401 rejects the upgrade', async () => {
    const app = express();
    app.use((req: Request, res: Response, next: NextFunction) => {
      if (req.headers.authorization === 'Bearer good') next();
      else res.status(401).set('WWW-Authenticate', 'Bearer').send('who are you?');
    });
    const service = echoService();
    app.use('/echo', service);
    const server = await listen(createServer(app));
    service.attachUpgrade(server.server);
    try {
      const rejected = await rejectedUpgrade(`${server.url}/echo/0/${randomUUID()}/websocket`);
      assert.equal(rejected.status, 401);
      assert.equal(rejected.headers['www-authenticate'], 'Bearer');
      assert.equal(rejected.body, 'who are you?');
      const xhr = await POST(`${server.url}/echo/0/${randomUUID()}/xhr`);
      assert.equal(xhr.status, 401, 'the same rule as for XHR');
      const ws = await WsClient.connect(`${server.url}/echo/0/${randomUUID()}/websocket`, undefined, {
        Authorization: 'Bearer good',
      });
      assert.equal(await ws.recv(), 'o');
      await ws.close();
    } finally {
      await server.close();
    }
  });

  it('leaves upgrades no service claims to another upgrade listener', async () => {
    const app = express();
    app.use('/echo', echoService());
    const httpServer = createServer(app);
    attachUpgrade(httpServer);
    // The way a dev server's hot reload or a second ws server shares an http server.
    const other = new WebSocketServer({ noServer: true });
    httpServer.on('upgrade', (req, socket, head) => {
      if (req.url === '/other')
        other.handleUpgrade(req, socket, head, (ws) => ws.send('from the other server'));
    });
    const server = await listen(httpServer);
    try {
      const ws = await WsClient.connect(`${server.url}/other`);
      assert.equal(await ws.recv(), 'from the other server');
      await ws.close();
      for (const url of [`${server.url}/echo/0/${randomUUID()}/websocket`, `${server.url}/echo/websocket`]) {
        const sockjs = await WsClient.connect(url);
        sockjs.send(url.endsWith('/echo/websocket') ? 'raw' : '["framed"]');
        const first = await sockjs.recv();
        assert.ok(first === 'o' || first === 'raw', first);
        if (first === 'o') assert.equal(await sockjs.recv(), 'a["framed"]');
        await delay(50);
        assert.equal(sockjs.isClosed, false, 'nobody else wrote to the socket');
        await sockjs.close();
      }
    } finally {
      other.close();
      await server.close();
    }
  });

  it('answers 404 and closes the socket for an unclaimed upgrade when it is the only listener', async () => {
    const app = express();
    app.use('/echo', echoService());
    const httpServer = createServer(app);
    attachUpgrade(httpServer);
    const server = await listen(httpServer);
    try {
      const rejected = await rejectedUpgrade(`${server.url}/nothing/here`);
      assert.equal(rejected.status, 404);
    } finally {
      await server.close();
    }
  });

  it('serves two services on one server', async () => {
    const app = express();
    const one = sockjsMiddleware();
    const two = sockjsMiddleware();
    one.on('connection', (conn) => conn.write('one'));
    two.on('connection', (conn) => conn.write('two'));
    app.use('/one', one);
    app.use('/two', two);
    const server = await listen(createServer(app));
    attachUpgrade(server.server);
    try {
      const a = await WsClient.connect(`${server.url}/one/0/${randomUUID()}/websocket`);
      const b = await WsClient.connect(`${server.url}/two/websocket`);
      assert.equal(await a.recv(), 'o');
      assert.equal(await a.recv(), 'a["one"]');
      assert.equal(await b.recv(), 'two');
      await a.close();
      await b.close();
    } finally {
      await server.close();
    }
  });

  it('survives a client that resets during the handshake', async () => {
    const app = express();
    app.use((_req, _res, next) => setTimeout(next, 50));
    app.use('/echo', echoService());
    const server = await listen(createServer(app));
    attachUpgrade(server.server);
    try {
      const conn = await RawConnection.connect(server.url);
      conn.sendRequest('GET', `/echo/0/${randomUUID()}/websocket`, {
        headers: {
          Upgrade: 'websocket',
          Connection: 'Upgrade',
          'Sec-WebSocket-Key': Buffer.from('0123456789abcdef').toString('base64'),
          'Sec-WebSocket-Version': '13',
        },
      });
      conn.close();
      await delay(100);
      const ws = await WsClient.connect(`${server.url}/echo/0/${randomUUID()}/websocket`);
      assert.equal(await ws.recv(), 'o');
      await ws.close();
    } finally {
      await server.close();
    }
  });
});

describe('large frames under back-pressure', () => {
  it('delivers every large message intact to a reader that stalls while another keeps reading', async () => {
    const conns: Connection[] = [];
    const app = express();
    // Room for all of it: by default a session whose client stops reading is cut at 4 MiB.
    app.use('/echo', echoService({ maxQueuedBytes: 64 * 1024 * 1024 }, conns));
    const server = await listen(createServer(app));
    attachUpgrade(server.server);
    const clients: WebSocket[] = [];
    try {
      const received: string[][] = [[], []];
      for (const messages of received) {
        const ws = new WebSocket(`${server.url.replace('http', 'ws')}/echo/000/${randomUUID()}/websocket`);
        ws.on('message', (data: Buffer) => {
          const frame = String(data);
          if (frame.startsWith('a')) messages.push(...(JSON.parse(frame.slice(1)) as string[]));
        });
        clients.push(ws);
        await opened(ws);
        await until(() => conns.length === clients.length, 2000, 'the connection');
      }
      const [stalled, reading] = conns;
      // The stalled reader is sent far more than loopback's socket buffers take, so its
      // frames wait in the server while the other reader's frames are built after them.
      clients[0].pause();
      const message = (who: string, i: number): string =>
        `${who}${i}:` + (i % 3 === 0 ? 'é' : String.fromCharCode(97 + (i % 26))).repeat(100_000 + i);
      const count = 100;
      for (let i = 0; i < count; i++) {
        stalled.write(message('s', i));
        reading.write(message('r', i));
        // A frame of its own for each message while the socket takes them.
        await new Promise((resolve) => setImmediate(resolve));
      }
      await until(() => received[1].length === count, 20_000, 'every message to the reader');
      clients[0].resume();
      await until(() => received[0].length === count, 20_000, 'every message to the stalled reader');
      for (const [c, who] of ['s', 'r'].entries()) {
        for (let i = 0; i < count; i++) {
          assert.equal(received[c][i], message(who, i), `message ${i} to ${who}`);
        }
      }
    } finally {
      for (const ws of clients) ws.terminate();
      await server.close();
    }
  });
});
