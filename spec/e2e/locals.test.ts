/**
 * `conn.locals` with the real sockjs-client in Node: a token middleware in front of the
 * service puts the client's user in `res.locals`, and the connection carries it on every
 * transport, with and without the fast path; so does a user read from an express-session.
 * The sockjs-node compatible server, with no app in front, gives an empty object.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import express, { type NextFunction, type Request, type Response } from 'express';
import session from 'express-session';
import {
  attachUpgrade,
  createServer as createSockjsServer,
  sockjsMiddleware,
  type Connection,
  type SockjsOptions,
} from '../../lib';
import { TRICKS_IN_USE } from '../../lib/internals';
import { NODE_TRANSPORTS } from '../helpers/cluster';
import { GET, POST } from '../helpers/http';
import { WsClient } from '../helpers/websocket';
import { listen, until, type TestServer } from '../helpers/server';
import { ClientHarness } from '../helpers/sockjs-client';

/** A user as the token middleware finds it. */
interface User {
  readonly name: string;
  readonly roles: readonly string[];
}

const USERS: ReadonlyMap<string, User> = new Map([
  ['token-ada', { name: 'ada', roles: ['admin'] }],
  ['token-bob', { name: 'bob', roles: [] }],
]);

/** The fast path needs Node's `socket.server` (lib/internals.ts); without it every request takes the app. */
const FAST = TRICKS_IN_USE['server-of-socket'];

/** An app whose middleware admits a `token` from the query string or the X-Token header. */
interface TokenApp {
  readonly server: TestServer;
  /** `http://127.0.0.1:PORT/svc` */
  readonly url: string;
  readonly connections: Connection[];
  /** The `res.locals` objects the middleware filled, in order. */
  readonly filled: object[];
  /** URLs of the requests the middleware saw. */
  readonly seen: string[];
}

function tokenOf(req: Request): string | undefined {
  const header = req.headers['x-token'];
  if (typeof header === 'string') return header;
  const query = req.query.token;
  return typeof query === 'string' ? query : undefined;
}

async function startTokenApp(options: SockjsOptions): Promise<TokenApp> {
  const connections: Connection[] = [];
  const filled: object[] = [];
  const seen: string[] = [];
  const service = sockjsMiddleware({ disconnectDelay: 500, ...options });
  service.on('connection', (conn) => {
    connections.push(conn);
    // The application reads what the middleware said, and answers each message with it.
    conn.on('data', (message) => {
      const user = conn.locals.user as User | undefined;
      conn.write(`${user?.name ?? 'nobody'}:${message}`);
    });
  });
  const app = express();
  app.use('/svc', (req: Request, res: Response, next: NextFunction) => {
    seen.push(req.originalUrl);
    const user = USERS.get(tokenOf(req) ?? '');
    if (user === undefined) {
      res.status(401).send('no valid token');
      return;
    }
    res.locals.user = user;
    res.locals.checkedBy = 'token middleware';
    filled.push(res.locals);
    next();
  });
  app.use('/svc', service);
  const server = await listen(createServer(app));
  attachUpgrade(server.server);
  return { server, url: `${server.url}/svc`, connections, filled, seen };
}

/** Opens a sockjs-client on one transport with a token, and returns it with its server side. */
async function connect(
  app: TokenApp,
  transport: (typeof NODE_TRANSPORTS)[number],
  token: string,
): Promise<{ client: ClientHarness; conn: Connection }> {
  const count = app.connections.length;
  const client = new ClientHarness(`${app.url}?token=${token}`, { transports: transport });
  await client.open();
  await until(() => app.connections.length > count, 5000, 'the connection event');
  return { client, conn: app.connections[count] };
}

for (const fastPath of [false, true]) {
  describe(`conn.locals over sockjs-client in Node${fastPath ? ', with fastPath' : ''}`, () => {
    let app: TokenApp;
    before(async () => {
      app = await startTokenApp({ fastPath });
    });
    after(() => app.server.close());

    for (const transport of NODE_TRANSPORTS) {
      it(`carries the user the token middleware found on ${transport}`, async () => {
        const { client, conn } = await connect(app, transport, 'token-ada');
        try {
          assert.deepEqual(conn.locals.user, USERS.get('token-ada'));
          assert.equal(conn.locals.checkedBy, 'token middleware');
          client.client.send('hello');
          assert.equal(await client.nextMessage(), 'ada:hello');
          client.client.send('again');
          assert.equal(await client.nextMessage(), 'ada:again', 'still the opener’s locals');
        } finally {
          await client.close();
        }
      });
    }

    it('gives each connection the locals of its own opening request', async () => {
      const ada = await connect(app, 'xhr-polling', 'token-ada');
      const bob = await connect(app, 'websocket', 'token-bob');
      try {
        assert.deepEqual(ada.conn.locals.user, USERS.get('token-ada'));
        assert.deepEqual(bob.conn.locals.user, USERS.get('token-bob'));
        bob.client.client.send('hi');
        assert.equal(await bob.client.nextMessage(), 'bob:hi');
      } finally {
        await Promise.all([ada.client.close(), bob.client.close()]);
      }
    });

    it('copies res.locals: later writes on either side stay on that side', async () => {
      const { client, conn } = await connect(app, 'xhr-streaming', 'token-bob');
      try {
        const opener = app.filled.find((locals) => (locals as { user?: User }).user === conn.locals.user);
        assert.ok(opener !== undefined, 'the user object itself is shared, not copied');
        assert.notEqual(conn.locals, opener);
        conn.locals.room = 'lobby';
        (opener as Record<string, unknown>).afterwards = true;
        assert.equal((opener as Record<string, unknown>).room, undefined);
        assert.equal(conn.locals.afterwards, undefined);
        assert.equal(Object.getPrototypeOf(conn.locals), null, 'no inherited keys, as res.locals');
      } finally {
        await client.close();
      }
    });
  });
}

describe('conn.locals on the fast path', () => {
  it('come from the request that opened the session, which alone went through the app', async () => {
    const app = await startTokenApp({ fastPath: true });
    try {
      const path = `${app.url}/000/${randomUUID()}`;
      const token = { 'X-Token': 'token-ada' };
      assert.equal((await POST(`${path}/xhr`, { headers: token })).body, 'o\n');
      await until(() => app.connections.length === 1, 2000, 'the connection event');
      const opened = app.seen.length;
      // Follow-ups carry the token only where they would go through the middleware.
      const followUp = FAST ? {} : token;
      assert.equal((await POST(`${path}/xhr_send`, { body: '["x"]', headers: followUp })).status, 204);
      assert.equal((await POST(`${path}/xhr`, { headers: followUp })).body, 'a["ada:x"]\n');
      if (FAST) assert.equal(app.seen.length, opened, 'no follow-up went through the middleware');
      assert.deepEqual(app.connections[0].locals.user, USERS.get('token-ada'));
    } finally {
      await app.server.close();
    }
  });
});

describe('conn.locals of the sockjs-node compatible server', () => {
  let server: TestServer;
  const connections: Connection[] = [];
  before(async () => {
    const sockjsServer = createSockjsServer({ prefix: '/echo', log: () => undefined });
    sockjsServer.on('connection', (conn) => {
      connections.push(conn);
      conn.on('data', (message) => conn.write(`${Object.keys(conn.locals).length}:${message}`));
    });
    const http = createServer((_req, res) => res.writeHead(404).end());
    sockjsServer.installHandlers(http);
    server = await listen(http);
  });
  after(() => server.close());

  for (const transport of NODE_TRANSPORTS) {
    it(`are an empty object on ${transport}`, async () => {
      const count = connections.length;
      const client = new ClientHarness(`${server.url}/echo`, { transports: transport });
      try {
        await client.open();
        await until(() => connections.length > count, 5000, 'the connection event');
        const conn = connections[count];
        assert.deepEqual(Object.keys(conn.locals), []);
        assert.equal(conn.locals, conn.locals, 'one object for the life of the connection');
        client.client.send('m');
        assert.equal(await client.nextMessage(), '0:m');
      } finally {
        await client.close();
      }
    });
  }
});

describe('conn.locals with express-session', () => {
  let server: TestServer;
  const connections: Connection[] = [];

  /** The name this spec keeps in the session (the app would declare it on SessionData). */
  function sessionName(req: Request): string | undefined {
    return (req.session as unknown as { userName?: string }).userName;
  }

  before(async () => {
    const service = sockjsMiddleware({ log: () => undefined });
    service.on('connection', (conn) => connections.push(conn));
    const app = express();
    app.use(session({ secret: 'spec secret', resave: false, saveUninitialized: false }));
    app.get('/login', (req, res) => {
      Object.assign(req.session, { userName: String(req.query.name) });
      res.send('ok');
    });
    app.use('/chat', (req: Request, res: Response, next: NextFunction) => {
      const name = sessionName(req);
      if (name === undefined) {
        res.status(401).send('Log in first.');
        return;
      }
      res.locals.user = { name };
      next();
    });
    app.use('/chat', service);
    server = await listen(createServer(app));
    attachUpgrade(server.server);
  });
  after(() => server.close());

  async function login(name: string): Promise<string> {
    const answer = await GET(`${server.url}/login?name=${name}`);
    const cookie = /connect\.sid=[^;]+/.exec(answer.headers['set-cookie'] ?? '');
    assert.ok(cookie !== null, 'express-session set its cookie');
    return cookie[0];
  }

  it('carries the user read from the cookie session on an HTTP transport', async () => {
    const cookie = await login('ada');
    const count = connections.length;
    const path = `${server.url}/chat/000/${randomUUID()}`;
    assert.equal((await POST(`${path}/xhr`)).status, 401, 'no session, no connection');
    assert.equal((await POST(`${path}/xhr`, { headers: { Cookie: cookie } })).body, 'o\n');
    await until(() => connections.length > count, 2000, 'the connection event');
    assert.deepEqual(connections[count].locals.user, { name: 'ada' });
  });

  it('carries it on a WebSocket, whose handshake went through the same middleware', async () => {
    const cookie = await login('bob');
    const count = connections.length;
    const ws = await WsClient.connect(`${server.url}/chat/websocket`, 4000, { Cookie: cookie });
    try {
      await until(() => connections.length > count, 2000, 'the connection event');
      assert.deepEqual(connections[count].locals.user, { name: 'bob' });
    } finally {
      ws.socket.close();
    }
  });
});
