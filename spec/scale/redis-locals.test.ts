/**
 * `conn.locals` with sessions forwarded through a real Redis: a session is opened by the
 * process its opening request reached, after that process's middleware, and has that
 * request's locals. Requests of the session at other processes run their own middleware,
 * whose locals stay with them: nothing but messages and frames crosses Redis.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import express, { type NextFunction, type Request, type Response } from 'express';
import { attachUpgrade, sockjsMiddleware, type Connection } from '../../lib';
import { createBroker } from '../../lib/redis';
import { ScratchDir, startRedis, type RedisProcess } from '../../scripts/cluster/processes';
import { requireBinary } from '../helpers/cluster';
import { POST, stream } from '../helpers/http';
import { connectRedis, stopSide, type Side } from '../helpers/redis-bed';
import { listen, until } from '../helpers/server';

const redisServer = requireBinary('redis-server', 'redis-server');

const USERS: Record<string, string> = { 'token-ada': 'ada', 'token-bob': 'bob' };

/**
 * A process whose token middleware puts the user and the process's name in `res.locals`;
 * its service answers each message with what its connection's locals say.
 */
async function startSide(redisUrl: string, name: string): Promise<Side> {
  const redis = await connectRedis(redisUrl);
  const broker = await createBroker({ redis, channel: 'locals-spec', log: () => undefined });
  const service = sockjsMiddleware({ disconnectDelay: 1000, log: () => undefined });
  const connections: Connection[] = [];
  service.on('connection', (conn) => {
    connections.push(conn);
    conn.on('data', (message) =>
      conn.write(`${String(conn.locals.user)}@${String(conn.locals.process)}:${message}`),
    );
  });
  broker.forward(service);
  const app = express();
  app.use('/echo', (req: Request, res: Response, next: NextFunction) => {
    const user = USERS[String(req.headers['x-token'])];
    if (user === undefined) {
      res.status(401).send('no valid token');
      return;
    }
    res.locals.user = user;
    res.locals.process = name;
    next();
  });
  app.use('/echo', service);
  const server = await listen(app);
  attachUpgrade(server.server);
  return { redis, broker, server, echoUrl: `${server.url}/echo`, connections, logged: [], closed: [] };
}

describe('conn.locals with sessions forwarded through Redis', { skip: redisServer.skip }, () => {
  let dir: ScratchDir;
  let redis: RedisProcess;
  let a: Side | undefined;
  let b: Side | undefined;

  before(async () => {
    dir = new ScratchDir('sockjs-locals-');
    redis = await startRedis(redisServer.path as string, dir);
    a = await startSide(redis.url, 'A');
    b = await startSide(redis.url, 'B');
  });

  after(async () => {
    await stopSide(a);
    await stopSide(b);
    await redis?.child.kill();
    dir?.remove();
  });

  it('come from the opening request at the owner, never from requests relayed by another process', async () => {
    const [owner, relay] = [a as Side, b as Side];
    const session = `${owner.echoUrl}/000/${randomUUID()}`;
    assert.equal((await POST(`${session}/xhr`, { headers: { 'X-Token': 'token-ada' } })).body, 'o\n');
    await until(() => owner.connections.length === 1, 2000, 'the connection at the owner');
    // The stream and the send reach the other process, whose middleware sees another user.
    const relayed = session.replace(owner.echoUrl, relay.echoUrl);
    const bob = { 'X-Token': 'token-bob' };
    const streaming = await stream('POST', `${relayed}/xhr_streaming`, { headers: bob });
    try {
      await streaming.read();
      assert.equal((await POST(`${relayed}/xhr_send`, { body: '["hi"]', headers: bob })).status, 204);
      let frames = '';
      while (!frames.includes('a[')) {
        const chunk = await streaming.read();
        if (chunk === null) assert.fail(`the relayed stream ended with ${frames}`);
        frames += chunk;
      }
      assert.ok(frames.includes('a["ada@A:hi"]'), `the owner's locals answered: ${frames}`);
    } finally {
      streaming.close();
    }
    const conn = owner.connections[0];
    assert.deepEqual({ ...conn.locals }, { user: 'ada', process: 'A' });
    assert.equal(relay.connections.length, 0, 'the relaying process opened no session');
  });

  it('are those of the request at the process that opens a session once its owner is gone', async () => {
    const session = `/000/${randomUUID()}`;
    const first = a as Side;
    assert.equal(
      (await POST(`${first.echoUrl}${session}/xhr`, { headers: { 'X-Token': 'token-ada' } })).body,
      'o\n',
    );
    await stopSide(first);
    a = undefined;
    const next = b as Side;
    const count = next.connections.length;
    const poll = await POST(`${next.echoUrl}${session}/xhr`, { headers: { 'X-Token': 'token-bob' } });
    assert.equal(poll.body, 'o\n', 'a new session, opened at the process the poll reached');
    await until(() => next.connections.length > count, 2000, 'the new connection');
    assert.deepEqual({ ...next.connections[count].locals }, { user: 'bob', process: 'B' });
  });
});
