/**
 * Services mounted in a plain Connect app, which sets `req.originalUrl` and strips the mount
 * from `req.url` but sets no `req.baseUrl`: at a prefix, in a Connect app inside another,
 * and at the root, with the real sockjs-client in Node on every transport it has.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import connect from 'connect';
import { attachUpgrade, createServer as createSockjsServer, sockjsMiddleware } from '../lib/index';
import type { Connection, SockjsOptions, SockjsRouter } from '../lib/index';
import { TRICKS_IN_USE } from '../lib/internals';
import { listen, type TestServer } from './helpers/server';
import { GET, POST } from './helpers/http';
import { NODE_TRANSPORTS } from './helpers/cluster';
import { ClientHarness, STEP_TIMEOUT_MS, within } from './helpers/sockjs-client';

/** An echo service that hands each new connection to `seen`. */
function echoService(seen: Connection[], options: SockjsOptions = {}): SockjsRouter {
  const service = sockjsMiddleware(options);
  service.on('connection', (conn) => {
    seen.push(conn);
    conn.on('data', (message: string) => conn.write(message));
  });
  return service;
}

/** The connection `seen` gets next. */
async function nextConnection(seen: Connection[], from: number): Promise<Connection> {
  await within(
    new Promise<void>((resolve) => {
      const check = (): void => {
        if (seen.length > from) resolve();
        else setTimeout(check, 5);
      };
      check();
    }),
    STEP_TIMEOUT_MS,
    'a server connection',
  );
  return seen[from] as Connection;
}

describe('a service in a Connect app', () => {
  let server: TestServer;
  const seen: Connection[] = [];
  const clients: ClientHarness[] = [];

  before(async () => {
    const app = connect();
    app.use('/echo', echoService(seen));
    const api = connect();
    api.use('/chat', echoService(seen));
    app.use('/api', api);
    // At the root the service answers its own paths only; the rest reaches what follows.
    app.use(echoService(seen));
    app.use('/health', (_req: IncomingMessage, res: ServerResponse) => res.end('fine'));
    const http = createServer(app);
    attachUpgrade(http);
    server = await listen(http);
  });

  after(async () => {
    await Promise.allSettled(clients.map((client) => client.close()));
    await server.close();
  });

  const mounts = [
    { where: 'at a prefix', base: '/echo' },
    { where: 'in a Connect app inside another', base: '/api/chat' },
    { where: 'at the root', base: '' },
  ];

  for (const { where, base } of mounts) {
    describe(where, () => {
      for (const transport of NODE_TRANSPORTS) {
        it(`echoes over ${transport}, and knows its base URL`, async () => {
          const from = seen.length;
          const client = new ClientHarness(server.url + base, {
            transports: [transport],
          });
          clients.push(client);
          await client.open();
          assert.equal(client.client.transport, transport, `${transport} itself, not a fallback`);
          const conn = await nextConnection(seen, from);
          assert.equal(conn.protocol, transport);
          assert.equal(conn.prefix, base);
          client.client.send('hello, Connect');
          assert.equal(await client.nextMessage(), 'hello, Connect');
          await client.close();
        });
      }
    });
  }

  it('answers the greeting, info and 404 under the prefix exactly as under Express', async () => {
    for (const path of ['/echo', '/echo/', '/api/chat', '/api/chat/', '/']) {
      const greeting = await GET(server.url + path);
      assert.equal(greeting.status, 200, path);
      assert.equal(greeting.body, 'Welcome to SockJS!\n', path);
    }
    assert.equal((await GET(`${server.url}/echo/info`)).status, 200);
    assert.equal((await GET(`${server.url}/api/chat/info?t=1`)).status, 200);
    for (const path of ['/echo//', '/echo/a', '/api/chat//', '/echo/iframe.htm']) {
      const missing = await GET(server.url + path);
      assert.equal(missing.status, 404, path);
      assert.equal(missing.body, 'Not found\n', `${path}: the service's own 404`);
    }
  });

  it('lets the root service pass what is not SockJS on to the rest of the app', async () => {
    assert.equal((await GET(`${server.url}/health`)).body, 'fine');
  });

  it('serves a session opened under the prefix on its later requests', async () => {
    const session = `${server.url}/api/chat/000/${randomUUID()}`;
    assert.equal((await POST(`${session}/xhr`)).body, 'o\n');
    assert.equal((await POST(`${session}/xhr_send`, { body: '["polled"]' })).status, 204);
    assert.equal((await POST(`${session}/xhr`)).body, 'a["polled"]\n');
  });
});

describe('the fast path in a Connect app', () => {
  it('opens sessions through the app, then serves their follow-up requests before it', async () => {
    const seenUrls: string[] = [];
    const app = connect();
    app.use((req: IncomingMessage, _res: ServerResponse, next: () => void) => {
      seenUrls.push(req.url ?? '');
      next();
    });
    app.use('/echo', echoService([], { fastPath: true }));
    const server = await listen(createServer(app));
    try {
      const session = `${server.url}/echo/000/${randomUUID()}`;
      assert.equal((await POST(`${session}/xhr`)).body, 'o\n');
      assert.equal((await POST(`${session}/xhr_send`, { body: '["fast"]' })).status, 204);
      assert.equal((await POST(`${session}/xhr`)).body, 'a["fast"]\n');
      // Without Node's socket.server (lib/internals.ts) every request goes through the app.
      assert.equal(seenUrls.length, TRICKS_IN_USE['server-of-socket'] ? 1 : 3);
    } finally {
      await server.close();
    }
  });
});

describe("the compatible server's middleware() in a Connect app", () => {
  it('takes its base URL from the mount', async () => {
    const sockjs = createSockjsServer({ log: () => undefined });
    const app = connect();
    app.use('/compat', sockjs.middleware());
    const server = await listen(createServer(app));
    try {
      assert.equal((await GET(`${server.url}/compat`)).body, 'Welcome to SockJS!\n');
      assert.equal((await GET(`${server.url}/compat/info`)).status, 200);
      const session = `${server.url}/compat/000/${randomUUID()}`;
      assert.equal((await POST(`${session}/xhr`)).body, 'o\n');
    } finally {
      await sockjs.close();
      await server.close();
    }
  });
});
