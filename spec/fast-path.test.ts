import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Agent, createServer } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { sockjsMiddleware, type Connection, type SockjsOptions, type SockjsRouter } from '../lib/index';
import { TRICKS_IN_USE } from '../lib/internals';
import { MAX_FAST_PATH_BASES } from '../lib/fast-path';
import { listen, until, type TestServer } from './helpers/server';
import { POST, fireAndHold, request, stream, type RawConnection } from './helpers/http';
import { fastPathBaseCount, heldSessionCount } from './helpers/internals';

interface Setup {
  server: TestServer;
  seen: string[];
  service: SockjsRouter;
}

/** An app whose middleware records every request it sees and refuses requests without a token. */
async function setup(
  options: SockjsOptions,
  mount: (app: express.Express, service: express.Router) => void,
): Promise<Setup> {
  const seen: string[] = [];
  const app = express();
  app.use((req: Request, res: Response, next: NextFunction) => {
    seen.push(req.url);
    if (req.headers['x-token'] === 'letmein') next();
    else res.status(401).send('no token');
  });
  const service = sockjsMiddleware(options);
  service.on('connection', (conn) => conn.on('data', (message: string) => conn.write(message)));
  mount(app, service);
  return { server: await listen(createServer(app)), seen, service };
}

const token = { 'X-Token': 'letmein' };

/** A service mounted per tenant: every tenant is a base URL of its own. */
const perTenant = (app: express.Express, service: express.Router): void => {
  app.use('/t/:tenant', service);
};

/**
 * The fast path finds a request's server through Node's undocumented `socket.server`
 * (lib/internals.ts); without it, every request takes the app's path, and is answered the same.
 */
const FAST = TRICKS_IN_USE['server-of-socket'];
/** Follow-up requests carry the token only where they go through the app's middleware. */
const followUp = FAST ? {} : token;

describe('fastPath', () => {
  describe('when on', () => {
    let s: Setup;
    before(async () => {
      s = await setup({ fastPath: true, origins: ['https://good.example'] }, (app, service) => {
        const api = express.Router();
        api.use('/chat', service);
        app.use('/api', api);
      });
    });
    after(() => s.server.close());

    it('opens sessions through the app, then serves their sends and polls before it', async () => {
      const path = `${s.server.url}/api/chat/000/${randomUUID()}`;
      s.seen.length = 0;
      assert.equal((await POST(`${path}/xhr`, { headers: token })).body, 'o\n');
      assert.equal(s.seen.length, 1, 'the opening request went through the middleware');
      assert.equal((await POST(`${path}/xhr_send`, { body: '["fast"]', headers: followUp })).status, 204);
      assert.equal((await POST(`${path}/xhr`, { headers: followUp })).body, 'a["fast"]\n');
      const streaming = await stream('POST', `${path}/xhr_streaming`, { headers: followUp });
      try {
        await streaming.read();
        await POST(`${path}/xhr_send`, { body: '["streamed"]', headers: followUp });
        assert.equal(await streaming.read(), 'a["streamed"]\n');
      } finally {
        streaming.close();
      }
      if (FAST) assert.equal(s.seen.length, 1, 'no follow-up request reached the middleware');
      else assert.equal(s.seen.length, 5, 'without the fast path, every request goes through the app');
    });

    it('still sends requests for unknown sessions through the app (and its auth)', async () => {
      s.seen.length = 0;
      const r = await POST(`${s.server.url}/api/chat/000/${randomUUID()}/xhr`);
      assert.equal(r.status, 401);
      assert.equal(s.seen.length, 1);
      const send = await POST(`${s.server.url}/api/chat/000/${randomUUID()}/xhr_send`, { body: '["x"]' });
      assert.equal(send.status, 401);
    });

    it('keeps the origins rule on the fast path', async () => {
      const path = `${s.server.url}/api/chat/000/${randomUUID()}`;
      await POST(`${path}/xhr`, { headers: { ...token, Origin: 'https://good.example' } });
      const evil = await POST(`${path}/xhr_send`, {
        body: '["x"]',
        headers: { ...followUp, Origin: 'https://evil.example' },
      });
      assert.equal(evil.status, 403);
      const good = await POST(`${path}/xhr_send`, {
        body: '["y"]',
        headers: { ...followUp, Origin: 'https://good.example' },
      });
      assert.equal(good.status, 204);
    });
  });

  it('also works for a service mounted at the root', async () => {
    const s = await setup({ fastPath: true }, (app, service) => app.use(service));
    try {
      const path = `${s.server.url}/000/${randomUUID()}`;
      assert.equal((await POST(`${path}/xhr`, { headers: token })).body, 'o\n');
      s.seen.length = 0;
      assert.equal((await POST(`${path}/xhr_send`, { body: '["root"]', headers: followUp })).status, 204);
      assert.equal((await POST(`${path}/xhr`, { headers: followUp })).body, 'a["root"]\n');
      assert.equal(s.seen.length, FAST ? 0 : 2);
    } finally {
      await s.server.close();
    }
  });

  it('is off by default: every request goes through the app', async () => {
    const s = await setup({}, (app, service) => app.use('/echo', service));
    try {
      const path = `${s.server.url}/echo/000/${randomUUID()}`;
      await POST(`${path}/xhr`, { headers: token });
      assert.equal((await POST(`${path}/xhr_send`, { body: '["x"]' })).status, 401);
      assert.equal((await POST(`${path}/xhr_send`, { body: '["x"]', headers: token })).status, 204);
      assert.equal(s.seen.length, 3);
    } finally {
      await s.server.close();
    }
  });
});

/** Sends `count` requests, `width` at a time, over kept-alive connections. */
async function manyRequests(
  count: number,
  width: number,
  send: (index: number, agent: Agent) => Promise<void>,
) {
  const agent = new Agent({ keepAlive: true, maxSockets: width });
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await send(next++, agent);
  };
  try {
    await Promise.all(Array.from({ length: width }, worker));
  } finally {
    agent.destroy();
  }
}

describe('fastPath base URLs', () => {
  it('are put on the fast path by no request that opens no session', async () => {
    const s = await setup({ fastPath: true, disconnectDelay: 60_000 }, perTenant);
    try {
      // One session open, so that the fast path is in place for the server.
      const held = `${s.server.url}/t/held/000/${randomUUID()}`;
      assert.equal((await POST(`${held}/xhr`, { headers: token })).body, 'o\n');
      const before = FAST ? 1 : 0;
      assert.equal(fastPathBaseCount(s.server.server), before);
      const kinds: [string, string, Record<string, string>, number][] = [
        ['GET', '/info', token, 200],
        ['GET', '', token, 200],
        ['GET', '/iframe.html', { ...token, Referer: `${s.server.url}/` }, 200],
        ['GET', '/no/such/url', token, 404],
        ['POST', `/000/${randomUUID()}/xhr_send`, token, 404],
        // Refused by the app's middleware: no session opens.
        ['POST', `/000/${randomUUID()}/xhr`, {}, 401],
      ];
      await manyRequests(20_000, 16, async (index, agent) => {
        const [method, below, headers, status] = kinds[index % kinds.length];
        const r = await request(method, `${s.server.url}/t/tenant-${index}${below}`, { headers, agent });
        assert.equal(r.status, status, `${method} ${below}`);
      });
      assert.equal(fastPathBaseCount(s.server.server), before);
    } finally {
      await s.service.close();
      await s.server.close();
    }
  });

  it('stay while a session opened there lives, and go with the last one', async () => {
    const s = await setup({ fastPath: true, disconnectDelay: 200 }, perTenant);
    const connections: Connection[] = [];
    s.service.on('connection', (conn) => connections.push(conn));
    const polls: RawConnection[] = [];
    const tenants = 30;
    try {
      for (let tenant = 0; tenant < tenants; tenant++) {
        for (let session = 0; session < 2; session++) {
          const path = `${s.server.url}/t/tenant-${tenant}/000/${randomUUID()}`;
          assert.equal((await POST(`${path}/xhr`, { headers: token })).body, 'o\n');
          // A poll waiting for messages keeps the session alive.
          polls.push(await fireAndHold('POST', `${path}/xhr`, { headers: followUp }));
        }
      }
      await until(() => connections.length === 2 * tenants, 4000, 'every connection announced');
      assert.equal(fastPathBaseCount(s.server.server), FAST ? tenants : 0);

      // One session of each tenant closes: the other keeps its base.
      const closed = new Set<string>();
      for (const conn of connections) {
        if (closed.has(conn.prefix)) continue;
        closed.add(conn.prefix);
        conn.close();
      }
      await until(() => heldSessionCount(s.service) === tenants, 4000, 'the closed sessions forgotten');
      assert.equal(fastPathBaseCount(s.server.server), FAST ? tenants : 0);

      for (const conn of connections) conn.close();
      await until(() => heldSessionCount(s.service) === 0, 4000, 'every session forgotten');
      assert.equal(fastPathBaseCount(s.server.server), 0);
    } finally {
      for (const poll of polls) poll.close();
      await s.service.close();
      await s.server.close();
    }
  });

  it(`are at most ${MAX_FAST_PATH_BASES}; sessions at others work through the app`, async () => {
    const lines: string[] = [];
    const s = await setup(
      { fastPath: true, disconnectDelay: 60_000, log: (_severity, line) => lines.push(line) },
      perTenant,
    );
    try {
      const bases = MAX_FAST_PATH_BASES + 8;
      await manyRequests(bases, 8, async (index, agent) => {
        const r = await POST(`${s.server.url}/t/b-${index}/000/s-${index}/xhr`, { headers: token, agent });
        assert.equal(r.body, 'o\n');
      });
      assert.equal(heldSessionCount(s.service), bases);
      assert.equal(fastPathBaseCount(s.server.server), FAST ? MAX_FAST_PATH_BASES : 0);
      if (FAST) assert.equal(lines.filter((line) => line.startsWith('fast path:')).length, 1);

      // Which bases took the places depends on the order the requests arrived in.
      s.seen.length = 0;
      let throughApp = 0;
      for (let index = 0; index < bases; index++) {
        const path = `${s.server.url}/t/b-${index}/000/s-${index}`;
        const send = await POST(`${path}/xhr_send`, { body: '["x"]' });
        if (send.status === 401) {
          throughApp++;
          assert.equal((await POST(`${path}/xhr_send`, { body: '["x"]', headers: token })).status, 204);
        } else {
          assert.equal(send.status, 204);
        }
        assert.equal((await POST(`${path}/xhr`, { headers: token })).body, 'a["x"]\n');
      }
      assert.equal(throughApp, FAST ? bases - MAX_FAST_PATH_BASES : bases);

      await s.service.close();
      assert.equal(fastPathBaseCount(s.server.server), 0);
    } finally {
      await s.service.close();
      await s.server.close();
    }
  });

  it('count the spellings of one base once, and serve a session only at its own', async () => {
    const s = await setup({ fastPath: true }, perTenant);
    try {
      // The same tenant to the router: `J`, and `J` percent-escaped in either case.
      const sessions = ['/t/J', '/t/%4a', '/t/%4A'].map((base) => ({ base, id: randomUUID() }));
      for (const { base, id } of sessions) {
        assert.equal((await POST(`${s.server.url}${base}/000/${id}/xhr`, { headers: token })).body, 'o\n');
      }
      assert.equal(fastPathBaseCount(s.server.server), FAST ? 1 : 0);

      s.seen.length = 0;
      for (const { base, id } of sessions) {
        const send = await POST(`${s.server.url}${base}/000/${id}/xhr_send`, {
          body: '["x"]',
          headers: followUp,
        });
        assert.equal(send.status, 204);
      }
      assert.equal(s.seen.length, FAST ? 0 : 3, 'each session at its own base: the fast path');

      // Another spelling of the session's base: the app decides.
      const escaped = sessions[1].id;
      s.seen.length = 0;
      assert.equal(
        (await POST(`${s.server.url}/t/J/000/${escaped}/xhr_send`, { body: '["y"]' })).status,
        401,
      );
      // The router reads `/t/%4a//000/...` as the path `//000/...` below the base: 404.
      const doubled = `${s.server.url}/t/%4a//000/${escaped}/xhr_send`;
      assert.equal((await POST(doubled, { body: '["y"]' })).status, 401);
      assert.equal((await POST(doubled, { body: '["y"]', headers: token })).status, 404);
      assert.equal(s.seen.length, 3, 'every other spelling went through the app');
    } finally {
      await s.service.close();
      await s.server.close();
    }
  });
});
