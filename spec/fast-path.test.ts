import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { sockjsMiddleware, type SockjsOptions } from '../lib/index';
import { TRICKS_IN_USE } from '../lib/internals';
import { listen, type TestServer } from './helpers/server';
import { POST, stream } from './helpers/http';

interface Setup {
  server: TestServer;
  seen: string[];
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
  return { server: await listen(createServer(app)), seen };
}

const token = { 'X-Token': 'letmein' };

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
