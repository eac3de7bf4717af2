import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import express from 'express';
import WebSocket from 'ws';
import * as sockjs from '../lib/index';
import type { Connection } from '../lib/session/connection';
import { listen, until, type TestServer } from './helpers/server';
import { GET, POST } from './helpers/http';
import { WsClient } from './helpers/websocket';
import { ClientHarness, type NodeClientTransport } from './helpers/sockjs-client';

const FIXTURES = join(__dirname, '..', '..', 'spec', 'fixtures');
const quiet = { log: () => undefined };

function echo(server: sockjs.SockjsServer, seen: Connection[] = []): sockjs.SockjsServer {
  server.on('connection', (conn) => {
    seen.push(conn);
    conn.on('data', (message: string) => conn.write(message));
  });
  return server;
}

async function xhrEcho(base: string, message: string): Promise<string> {
  const path = `${base}/000/${randomUUID()}`;
  assert.equal((await POST(`${path}/xhr`)).body, 'o\n');
  assert.equal((await POST(`${path}/xhr_send`, { body: JSON.stringify([message]) })).status, 204);
  return (await POST(`${path}/xhr`)).body;
}

function answer(text: string) {
  return (_req: IncomingMessage, res: ServerResponse) => {
    if (!res.headersSent) res.end(text);
  };
}

describe('sockjs-node compatible API', () => {
  describe('installHandlers on a plain http.Server', () => {
    let server: TestServer;
    const laterCalls: string[] = [];
    before(async () => {
      const http = createServer(answer('earlier listener'));
      echo(sockjs.createServer(quiet)).installHandlers(http, { prefix: '/echo' });
      http.on('request', (req: IncomingMessage, res: ServerResponse) => {
        laterCalls.push(req.url ?? '');
        if (!res.headersSent) res.end('later listener');
      });
      server = await listen(http);
    });
    after(() => server.close());

    it('serves the prefix', async () => {
      assert.equal((await GET(`${server.url}/echo`)).body, 'Welcome to SockJS!\n');
      assert.equal(await xhrEcho(`${server.url}/echo`, 'hi'), 'a["hi"]\n');
      assert.equal((await GET(`${server.url}/echo/nope`)).status, 404);
    });

    it('passes other requests to the listeners registered before, and after', async () => {
      laterCalls.length = 0;
      assert.equal((await GET(`${server.url}/elsewhere`)).body, 'earlier listener');
      assert.deepEqual(laterCalls, ['/elsewhere']);
    });

    it('keeps listeners added later away from SockJS requests', async () => {
      laterCalls.length = 0;
      await GET(`${server.url}/echo/info`);
      assert.deepEqual(laterCalls, []);
    });

    it('serves both websocket transports with no Express app', async () => {
      const framed = await WsClient.connect(`${server.url}/echo/000/${randomUUID()}/websocket`);
      assert.equal(await framed.recv(), 'o');
      framed.send('["ws"]');
      assert.equal(await framed.recv(), 'a["ws"]');
      await framed.close();
      const raw = await WsClient.connect(`${server.url}/echo/websocket`);
      raw.send('raw');
      assert.equal(await raw.recv(), 'raw');
      await raw.close();
    });
  });

  it('installs one Server at several prefixes, and treats the prefix as a pattern', async () => {
    const seen: Connection[] = [];
    const http = createServer(answer('fallback'));
    const server = echo(sockjs.createServer(quiet), seen);
    server.installHandlers(http, { prefix: '[/]one' });
    server.installHandlers(http, { prefix: '/two' });
    const running = await listen(http);
    try {
      assert.equal(await xhrEcho(`${running.url}/one`, '1'), 'a["1"]\n');
      assert.equal(await xhrEcho(`${running.url}/two`, '2'), 'a["2"]\n');
      assert.equal((await GET(`${running.url}/three`)).body, 'fallback');
      // A prefix ends where a path segment ends, pattern or plain text alike.
      for (const path of ['/twofold/info', '/onefold/info', '/tw/info']) {
        assert.equal((await GET(running.url + path)).body, 'fallback', path);
      }
      for (const path of ['/two?t=1', '/one?t=1', '/two/', '/one/']) {
        assert.equal((await GET(running.url + path)).body, 'Welcome to SockJS!\n', path);
      }
      assert.deepEqual(
        seen.map((conn) => conn.prefix),
        ['/one', '/two'],
      );
    } finally {
      await running.close();
    }
  });

  it('attaches and detaches (0.4 style), prefix from the options', async () => {
    const http = createServer(answer('app'));
    const server = echo(sockjs.createServer({ ...quiet, prefix: '/echo' }));
    server.attach(http);
    const running = await listen(http);
    try {
      assert.equal((await GET(`${running.url}/echo`)).body, 'Welcome to SockJS!\n');
      server.detach(http);
      assert.equal((await GET(`${running.url}/echo`)).body, 'app');
    } finally {
      await running.close();
    }
  });

  it('listen(server, options) creates and installs in one call', async () => {
    const http = createServer(answer('app'));
    echo(sockjs.listen(http, { ...quiet, prefix: '/echo' }));
    const running = await listen(http);
    try {
      assert.equal(await xhrEcho(`${running.url}/echo`, 'listen'), 'a["listen"]\n');
    } finally {
      await running.close();
    }
  });

  it('middleware() mounts in an Express app, websockets included', async () => {
    const app = express();
    app.use('/echo', echo(sockjs.createServer(quiet)).middleware());
    const http = createServer(app);
    sockjs.attachUpgrade(http);
    const running = await listen(http);
    try {
      assert.equal(await xhrEcho(`${running.url}/echo`, 'mw'), 'a["mw"]\n');
      const ws = await WsClient.connect(`${running.url}/echo/websocket`);
      ws.send('mw ws');
      assert.equal(await ws.recv(), 'mw ws');
      await ws.close();
    } finally {
      await running.close();
    }
  });

  it('middleware() honours a prefix option below its mount point', async () => {
    const app = express();
    app.use(echo(sockjs.createServer({ ...quiet, prefix: '/echo' })).middleware());
    app.use((_req, res) => {
      res.send('app');
    });
    const running = await listen(createServer(app));
    try {
      assert.equal(await xhrEcho(`${running.url}/echo`, 'prefixed'), 'a["prefixed"]\n');
      assert.equal((await GET(`${running.url}/elsewhere`)).body, 'app');
    } finally {
      await running.close();
    }
  });

  it('works on an https.Server', async () => {
    const https = createHttpsServer({
      key: readFileSync(join(FIXTURES, 'localhost-key.pem')),
      cert: readFileSync(join(FIXTURES, 'localhost-cert.pem')),
    });
    echo(sockjs.createServer(quiet)).installHandlers(https, { prefix: '/echo' });
    const running = await listen(https);
    try {
      const url = `wss://127.0.0.1:${running.port}/echo/websocket`;
      const ws = new WebSocket(url, { rejectUnauthorized: false });
      const reply = await new Promise<string>((resolve, reject) => {
        ws.on('open', () => ws.send('secure'));
        ws.on('message', (data: Buffer) => resolve(data.toString()));
        ws.on('error', reject);
      });
      ws.close();
      assert.equal(reply, 'secure');
    } finally {
      await running.close();
    }
  });

  describe('options in both spellings, with sockjs-node semantics', () => {
    it('honours disabled_transports and websocket: false', async () => {
      const http = createServer(answer('app'));
      sockjs
        .createServer({ ...quiet, disabled_transports: ['websocket'] })
        .installHandlers(http, { prefix: '/a' });
      sockjs.createServer({ ...quiet, websocket: false }).installHandlers(http, { prefix: '/b' });
      const running = await listen(http);
      try {
        for (const prefix of ['/a', '/b']) {
          assert.equal(JSON.parse((await GET(`${running.url}${prefix}/info`)).body).websocket, false);
          assert.equal((await GET(`${running.url}${prefix}/websocket`)).status, 404);
        }
      } finally {
        await running.close();
      }
    });

    it('sets JSESSIONID on the 101 of a websocket with no Express app', async () => {
      const http = createServer(answer('app'));
      echo(sockjs.createServer({ ...quiet, jsessionid: true })).installHandlers(http, { prefix: '/echo' });
      const running = await listen(http);
      try {
        const ws = new WebSocket(`ws://127.0.0.1:${running.port}/echo/000/${randomUUID()}/websocket`, {
          headers: { Cookie: 'JSESSIONID=sticky1' },
        });
        const cookie = await new Promise<string | string[] | undefined>((resolve, reject) => {
          ws.on('upgrade', (res) => resolve(res.headers['set-cookie']));
          ws.on('error', reject);
        });
        ws.terminate();
        assert.deepEqual(cookie, ['JSESSIONID=sticky1; path=/']);
      } finally {
        await running.close();
      }
    });

    it('puts base_url into info, where sockjs-client takes its transport URL from', async () => {
      const http = createServer(answer('app'));
      sockjs.createServer({ ...quiet, base_url: 'https://sockets.example.com/echo' }).installHandlers(http, {
        prefix: '/echo',
      });
      const running = await listen(http);
      try {
        const info = JSON.parse((await GET(`${running.url}/echo/info`)).body);
        assert.equal(info.base_url, 'https://sockets.example.com/echo');
      } finally {
        await running.close();
      }
    });

    it('calls a jsessionid function to set the cookie itself', async () => {
      const http = createServer(answer('app'));
      sockjs
        .createServer({
          ...quiet,
          jsessionid: (_req, res) => res.setHeader('Set-Cookie', 'JSESSIONID=mine; path=/; HttpOnly'),
        })
        .installHandlers(http, { prefix: '/echo' });
      const running = await listen(http);
      try {
        const info = await GET(`${running.url}/echo/info`);
        assert.equal(JSON.parse(info.body).cookie_needed, true);
        assert.equal(info.headers['set-cookie'], undefined);
        const r = await POST(`${running.url}/echo/000/${randomUUID()}/xhr`);
        assert.equal(r.headers['set-cookie'], 'JSESSIONID=mine; path=/; HttpOnly');
      } finally {
        await running.close();
      }
    });

    it('maps faye_server_options.max_length to the websocket message limit', async () => {
      const http = createServer(answer('app'));
      echo(sockjs.createServer({ ...quiet, faye_server_options: { max_length: 100 } })).installHandlers(
        http,
        {
          prefix: '/echo',
        },
      );
      const running = await listen(http);
      try {
        const ws = await WsClient.connect(`${running.url}/echo/websocket`);
        ws.send('x'.repeat(50));
        assert.equal(await ws.recv(), 'x'.repeat(50));
        ws.send('x'.repeat(200));
        assert.equal((await ws.expectClose()).code, 1009);
      } finally {
        await running.close();
      }
    });

    it('logs through the log option, and validates at createServer()', () => {
      const lines: string[] = [];
      const http = createServer();
      sockjs
        .createServer({ log: (severity, line) => lines.push(`${severity}: ${line}`) })
        .installHandlers(http, { prefix: '/x' });
      assert.deepEqual(lines, ['debug: SockJS bound to "/x"']);
      assert.throws(() => sockjs.createServer({ response_limit: -1 }), TypeError);
      assert.throws(() => sockjs.createServer({ prefix: '[' }).installHandlers(http), TypeError);
    });
  });

  describe('the 0.3 Connection surface', () => {
    it('has readable, writable, destroy(), destroySoon() and emits end then close', async () => {
      const http = createServer();
      const seen: Connection[] = [];
      const server = sockjs.createServer(quiet);
      server.on('connection', (conn) => seen.push(conn));
      server.installHandlers(http, { prefix: '/c' });
      const running = await listen(http);
      try {
        for (const method of ['destroy', 'destroySoon'] as const) {
          const path = `${running.url}/c/000/${randomUUID()}`;
          await POST(`${path}/xhr`);
          await until(() => seen.length > 0, 1000, 'connection');
          const conn = seen.pop() as Connection;
          assert.equal(conn.readable, true);
          assert.equal(conn.writable, true);
          const events: string[] = [];
          conn.on('end', () => events.push('end'));
          conn.on('close', () => events.push('close'));
          conn.on('data', () => events.push('data'));
          conn[method]();
          assert.equal(conn.writable, false);
          assert.equal(conn.readable, false);
          assert.equal((await POST(`${path}/xhr`)).body, 'c[1000,"Normal closure"]\n');
          await until(() => events.length === 2, 1000, 'end and close');
          assert.deepEqual(events, ['end', 'close']);
        }
      } finally {
        await running.close();
      }
    });
  });

  describe('the echo server from the sockjs-node README, unchanged', () => {
    let child: ChildProcess;
    let base: string;
    let output = '';
    before(async () => {
      child = spawn(
        process.execPath,
        ['-r', join(FIXTURES, 'listen-on-loopback.js'), join(FIXTURES, 'seed-echo-server.js')],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      child.stdout?.on('data', (data: Buffer) => (output += data.toString()));
      await until(() => /LISTENING (\d+)/.test(output), 10_000, 'the seed server to listen');
      base = `http://127.0.0.1:${/LISTENING (\d+)/.exec(output)?.[1]}/echo`;
    });
    after(() => {
      child.kill();
    });

    it('prints its log lines, as sockjs-node did by default', () => {
      assert.match(output, /SockJS bound to "\[\/\]echo"/);
    });

    for (const transport of [
      'websocket',
      'xhr-streaming',
      'xhr-polling',
      'eventsource',
    ] as NodeClientTransport[]) {
      it(`echoes with sockjs-client over ${transport}`, async () => {
        const client = new ClientHarness(base, { transports: [transport] });
        try {
          await client.open();
          assert.equal(client.client.transport, transport);
          for (const message of ['hello', '</script>', '%41', '😀\u2028']) {
            client.client.send(message);
            assert.equal(await client.nextMessage(), message);
          }
        } finally {
          await client.close();
        }
      });
    }
  });
});
