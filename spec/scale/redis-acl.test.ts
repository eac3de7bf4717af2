/**
 * The Redis user of docs/scale-out.md ("Security"), as the document writes it, on a real
 * redis-server: brokers logged in as that user publish, join groups and forward sessions,
 * and the user can reach nothing else.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ScratchDir, startRedis, type RedisProcess } from '../../scripts/cluster/processes';
import { requireBinary } from '../helpers/cluster';
import {
  RelayedSession,
  connectRedis,
  receivedAtLeast,
  startSide,
  stopSide,
  websocketClient,
  type RedisConnection,
  type Side,
} from '../helpers/redis-bed';

const redisServer = requireBinary('redis-server', 'redis-server');
const ROOT = resolve(__dirname, '..', '..', '..');
const PASSWORD = 'a password for the spec';

/** The `ACL SETUSER` line of docs/scale-out.md, split into arguments, with the spec's password. */
function documentedAcl(): string[] {
  const doc = readFileSync(join(ROOT, 'docs', 'scale-out.md'), 'utf8');
  const line = doc.split('\n').find((text) => text.trim().startsWith('ACL SETUSER '));
  assert.ok(line !== undefined, 'docs/scale-out.md has an ACL SETUSER line');
  return line
    .trim()
    .split(' ')
    .map((word) => (word === '>change-this-password' ? `>${PASSWORD}` : word));
}

describe('the Redis user of docs/scale-out.md', { skip: redisServer.skip }, () => {
  let dir: ScratchDir;
  let redis: RedisProcess;
  let admin: RedisConnection;
  let limited: RedisConnection;
  let userUrl: string;
  const sides: Side[] = [];

  before(async () => {
    dir = new ScratchDir('sockjs-redis-acl-');
    redis = await startRedis(redisServer.path as string, dir);
    admin = await connectRedis(redis.url);
    assert.equal(await admin.sendCommand(documentedAcl()), 'OK');
    userUrl = redis.url.replace('redis://', `redis://sockjs:${encodeURIComponent(PASSWORD)}@`);
    limited = await connectRedis(userUrl);
    for (let i = 0; i < 2; i++) sides.push(await startSide(userUrl, { channel: 'sockjs' }));
  });

  after(async () => {
    for (const side of sides) await stopSide(side);
    if (limited?.isOpen) await limited.close();
    if (admin?.isOpen) await admin.close();
    await redis?.child.kill();
    dir?.remove();
  });

  it('is enough for publishing, groups and forwarding', async () => {
    const [a, b] = sides;
    const session = await RelayedSession.open(a, b, `acl${Date.now()}`);
    try {
      assert.equal(await session.send('forwarded'), 204);
      await receivedAtLeast(session.received, 1);
      const client = await websocketClient(b);
      assert.equal(await a.broker.publish('to all'), 2);
      assert.equal(await client.nextMessage(), 'to all');
      assert.equal(await a.broker.publishTo('room', 'to the room'), 2);
      assert.equal(await client.nextMessage(), 'to the room');
      await client.close();
      await receivedAtLeast(session.received, 3);
      assert.deepEqual(session.received, ['forwarded', 'to all', 'to the room']);
    } finally {
      session.close();
    }
    for (const side of sides) {
      assert.deepEqual(
        side.logged.filter((line) => line.severity === 'error'),
        [],
        'no command was refused',
      );
    }
  });

  it('reaches no other channel, key or command', async () => {
    for (const args of [
      ['PUBLISH', 'other:all', 'x'],
      ['GET', 'other:session:/echo/x'],
      ['GET', 'sockjs:other'],
      ['SET', 'sockjs:other', 'x'],
      ['KEYS', '*'],
      ['FLUSHALL'],
      ['CONFIG', 'GET', '*'],
      ['EVAL', "return redis.call('GET', KEYS[1])", '1', 'other:key'],
    ]) {
      await assert.rejects(limited.sendCommand(args), /NOPERM/, args.join(' '));
    }
  });
});
