/**
 * Redis as a trust boundary, one finding at a time, against a real redis-server: what a
 * client of the same Redis can publish or store, and the safe answer to each. Brokers in
 * two "processes" without a secret (channel `trust`) and two with one (channel `signed`).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createBroker } from '../../lib/redis';
import { ScratchDir, startRedis, type RedisProcess } from '../../scripts/cluster/processes';
import { requireBinary } from '../helpers/cluster';
import { POST } from '../helpers/http';
import {
  FAILING_MESSAGE,
  RelayedSession,
  connectRedis,
  receivedAtLeast,
  startSide,
  stopSide,
  websocketClient,
  type RedisConnection,
  type Side,
} from '../helpers/redis-bed';
import { until } from '../helpers/server';
import type { ClientHarness } from '../helpers/sockjs-client';

const redisServer = requireBinary('redis-server', 'redis-server');

/** A process id nobody runs, of the right shape. */
const MADE_UP = 'intruder/4242/0badc0de';
const SECRET = 'a secret of more than sixteen bytes';

function nodeChannel(channel: string, side: Side): string {
  return `${channel}:node:${side.broker.id}`;
}

/** Messages published to `channel` while `during` runs, heard by a subscriber of its own. */
async function overheard(
  attacker: RedisConnection,
  channel: string,
  during: () => Promise<void>,
): Promise<string[]> {
  const heard: string[] = [];
  const listener = attacker.duplicate();
  await listener.connect();
  const marker = `marker ${Math.random()}`;
  let markerSeen = false;
  await listener.subscribe(channel, (message: string) => {
    if (message === marker) markerSeen = true;
    else heard.push(message);
  });
  try {
    await during();
    // Redis keeps the order of one connection's publishes: once the marker is here, so is all before it.
    await attacker.publish(channel, marker);
    await until(() => markerSeen, 5000, 'the marker');
  } finally {
    await listener.close();
  }
  return heard;
}

describe('Redis as a trust boundary', { skip: redisServer.skip }, () => {
  let dir: ScratchDir;
  let redis: RedisProcess;
  let attacker: RedisConnection;

  before(async () => {
    dir = new ScratchDir('sockjs-redis-trust-');
    redis = await startRedis(redisServer.path as string, dir);
    attacker = await connectRedis(redis.url);
  });

  after(async () => {
    if (attacker?.isOpen) await attacker.close();
    await redis?.child.kill();
    dir?.remove();
  });

  describe('without a secret', () => {
    let a: Side;
    let b: Side;
    const sessions: RelayedSession[] = [];
    const clients: ClientHarness[] = [];

    before(async () => {
      a = await startSide(redis.url, { channel: 'trust' });
      b = await startSide(redis.url, { channel: 'trust' });
    });

    after(async () => {
      for (const session of sessions) session.close();
      await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
      await stopSide(a);
      await stopSide(b);
    });

    async function relayed(): Promise<RelayedSession> {
      const session = await RelayedSession.open(a, b, `s${sessions.length}x${Date.now()}`);
      sessions.push(session);
      return session;
    }

    function send(session: RelayedSession, messages: unknown, id = 7): string {
      return JSON.stringify({
        type: 'send',
        from: MADE_UP,
        session: session.key('trust'),
        send: id,
        messages,
      });
    }

    it('takes nothing from a message naming __proto__, and the session it names keeps echoing', async () => {
      const session = await relayed();
      const key = session.key('trust');
      const before = a.broker.dropped().malformed + a.broker.dropped().misaddressed;
      const crafted = [
        '{"p":"__proto__"}',
        '{"type":"attach","p":"__proto__","from":"__proto__","session":"__proto__","relay":1,"transport":"__proto__","callback":"","limit":1}',
        JSON.stringify({
          type: 'attach',
          from: MADE_UP,
          session: key,
          relay: 1,
          transport: '__proto__',
          callback: 'x',
          limit: 9,
        }),
        JSON.stringify({
          type: 'attach',
          from: MADE_UP,
          session: key,
          relay: 1,
          transport: 'constructor',
          callback: '',
          limit: 9,
        }),
        '{"__proto__":{"type":"ping","from":"a/1/00000000"}}',
        '{"type":"__proto__","from":"a/1/00000000"}',
        '{"type":"constructor","from":"a/1/00000000"}',
        JSON.stringify({ type: 'send', from: MADE_UP, session: '__proto__', send: 1, messages: ['x'] }),
        JSON.stringify({
          type: 'send',
          from: MADE_UP,
          session: key,
          send: 1,
          messages: { __proto__: ['x'] },
        }),
        JSON.stringify({ type: 'lost', from: '__proto__', relay: 1 }),
      ];
      for (const message of crafted) await attacker.publish(nodeChannel('trust', a), message);
      await attacker.publish(
        nodeChannel('trust', b),
        JSON.stringify({ type: 'frame', from: MADE_UP, relay: 1, frame: 'a["injected"]' }),
      );
      await attacker.publish(
        nodeChannel('trust', b),
        '{"type":"frame","from":"__proto__","relay":1,"frame":"c[1,\\"x\\"]"}',
      );

      assert.equal(await session.send('after'), 204);
      await receivedAtLeast(session.received, 1);
      assert.deepEqual(session.received, ['after']);
      assert.deepEqual(session.closes, []);
      assert.equal(({} as Record<string, unknown>).type, undefined, 'Object.prototype is untouched');
      const dropped = a.broker.dropped().malformed + a.broker.dropped().misaddressed;
      assert.ok(dropped - before >= 5, `dropped ${dropped - before}`);
      assert.ok(b.broker.dropped().malformed + b.broker.dropped().misaddressed >= 2);
    });

    it('drops a null or non-string message list alone, not the valid messages in the same read', async () => {
      const session = await relayed();
      const client = await websocketClient(a);
      clients.push(client);
      const before = a.broker.dropped().malformed;
      // One MULTI: Redis hands the subscriber all of these in one go.
      await attacker
        .multi()
        .publish(nodeChannel('trust', a), send(session, null))
        .publish(nodeChannel('trust', a), send(session, [1, 2]))
        .publish(nodeChannel('trust', a), send(session, ['ok', null]))
        .publish(nodeChannel('trust', a), send(session, ['valid']))
        .publish('trust:all', 'broadcast')
        .exec();
      await receivedAtLeast(session.received, 1);
      assert.equal(await client.nextMessage(), 'broadcast');
      assert.equal(await session.send('last'), 204);
      await receivedAtLeast(session.received, 3);
      // Its connection is tracked too: the broadcast reaches it after the message before it.
      assert.deepEqual(session.received, ['valid', 'broadcast', 'last']);
      assert.equal(a.broker.dropped().malformed - before, 3);
    });

    it('takes a message string for no list: never one message per character', async () => {
      const session = await relayed();
      await attacker
        .multi()
        .publish(nodeChannel('trust', a), send(session, 'abc'))
        .publish(nodeChannel('trust', a), send(session, ['whole']))
        .exec();
      await receivedAtLeast(session.received, 1);
      assert.equal(await session.send('last'), 204);
      await receivedAtLeast(session.received, 2);
      assert.deepEqual(session.received, ['whole', 'last']);
    });

    it('keeps the messages after one whose handler throws, in the same read', async () => {
      const session = await relayed();
      const before = a.broker.dropped().faulted;
      await attacker
        .multi()
        .publish(nodeChannel('trust', a), send(session, [FAILING_MESSAGE]))
        .publish(nodeChannel('trust', a), send(session, ['still here']))
        .exec();
      await receivedAtLeast(session.received, 1);
      assert.deepEqual(session.received, ['still here']);
      assert.equal(a.broker.dropped().faulted - before, 1);
      assert.ok(a.logged.some((line) => /handling failed: the application failed/.test(line.message)));
    });

    it('answers an attach for a session it does not hold with `gone` only', async () => {
      const heard = await overheard(attacker, `trust:node:${MADE_UP}`, async () => {
        await attacker.publish(
          nodeChannel('trust', a),
          JSON.stringify({
            type: 'attach',
            from: MADE_UP,
            session: 'trust:session:/echo/nobody',
            relay: 5,
            transport: 'xhr-polling',
            callback: '',
            limit: 4096,
          }),
        );
      });
      assert.deepEqual(
        heard.map((message) => JSON.parse(message) as unknown),
        [{ type: 'gone', from: a.broker.id, relay: 5 }],
      );
    });

    it('believes no owner record that is not a process id', async () => {
      const session = `record${Date.now()}`;
      assert.equal((await POST(`${a.echoUrl}/000/${session}/xhr`)).body, 'o\n');
      const before = b.broker.dropped().malformed;
      for (const value of ['__proto__', 'x'.repeat(100_000), 'host/1/00000000 extra']) {
        await attacker.set(`trust:session:/echo/${session}`, value);
        const response = await POST(`${b.echoUrl}/000/${session}/xhr_send`, { body: '["x"]' });
        assert.equal(response.status, 404, value.slice(0, 20));
      }
      assert.equal(b.broker.dropped().malformed - before, 3);
    });

    it('logs a flood of bad messages once, and counts every one', async () => {
      const before = a.broker.dropped().malformed;
      const lines = a.logged.length;
      for (let i = 0; i < 200; i++) await attacker.publish(nodeChannel('trust', a), `not json ${i}`);
      await until(() => a.broker.dropped().malformed - before === 200, 5000, '200 drops');
      assert.ok(a.logged.length - lines <= 1, `${a.logged.length - lines} lines`);
    });
  });

  describe('with a secret', () => {
    let c: Side;
    let d: Side;
    const sessions: RelayedSession[] = [];

    before(async () => {
      c = await startSide(redis.url, { channel: 'signed', secret: SECRET });
      d = await startSide(redis.url, { channel: 'signed', secret: SECRET });
    });

    after(async () => {
      for (const session of sessions) session.close();
      await stopSide(c);
      await stopSide(d);
    });

    it('refuses a secret shorter than 16 bytes', async () => {
      await assert.rejects(createBroker({ redis: c.redis, secret: 'short' }), TypeError);
      await assert.rejects(createBroker({ redis: c.redis, secret: 42 as never }), TypeError);
    });

    it('gives a fake attach from a made-up process nothing of the session it names', async () => {
      const id = `victim${Date.now()}`;
      assert.equal((await POST(`${c.echoUrl}/000/${id}/xhr`)).body, 'o\n');
      assert.equal((await POST(`${c.echoUrl}/000/${id}/xhr_send`, { body: '["queued"]' })).status, 204);
      const attach = JSON.stringify({
        type: 'attach',
        from: MADE_UP,
        session: `signed:session:/echo/${id}`,
        relay: 1,
        transport: 'xhr-polling',
        callback: '',
        limit: 4096,
      });
      const before = c.broker.dropped();
      const heard = await overheard(attacker, `signed:node:${MADE_UP}`, async () => {
        await attacker.publish(nodeChannel('signed', c), attach);
        const forgedHead = `sjs1 ${Date.now()} 1 ${MADE_UP} ${'A'.repeat(43)}`;
        await attacker.publish(nodeChannel('signed', c), `${forgedHead}\n${attach}`);
        await until(() => c.broker.dropped().forged > before.forged, 5000, 'the forged attach dropped');
      });
      assert.deepEqual(heard, [], 'the made-up process heard nothing');
      assert.equal(c.broker.dropped().unsigned - before.unsigned, 1);
      assert.equal(
        (await POST(`${c.echoUrl}/000/${id}/xhr`)).body,
        'a["queued"]\n',
        'the victim got its message',
      );
    });

    it('takes a captured signed message once, and only on its own channel', async () => {
      const session = await RelayedSession.open(c, d, `replay${Date.now()}`);
      sessions.push(session);
      const captured: { channel: string; message: string }[] = [];
      const listener = attacker.duplicate();
      await listener.connect();
      await listener.pSubscribe('signed:node:*', (message: string, channel: string) => {
        captured.push({ channel, message });
      });
      try {
        assert.equal(await session.send('once'), 204);
        await receivedAtLeast(session.received, 1);
      } finally {
        await listener.close();
      }
      const sends = captured.filter(({ message }) => message.includes('"type":"send"'));
      assert.equal(sends.length, 1);
      const before = c.broker.dropped();
      for (let i = 0; i < 3; i++) await attacker.publish(sends[0].channel, sends[0].message);
      await attacker.publish('signed:all', sends[0].message);
      await until(() => c.broker.dropped().replayed - before.replayed === 3, 5000, 'three replays dropped');
      await until(() => c.broker.dropped().forged - before.forged === 1, 5000, 'the moved message dropped');
      assert.equal(await session.send('twice?'), 204);
      await receivedAtLeast(session.received, 2);
      assert.deepEqual(session.received, ['once', 'twice?']);
    });

    it('believes no unsigned owner record: a send never goes to the process it names', async () => {
      const id = `signedrecord${Date.now()}`;
      assert.equal((await POST(`${c.echoUrl}/000/${id}/xhr`)).body, 'o\n');
      const before = d.broker.dropped();
      const heard = await overheard(attacker, `signed:node:${MADE_UP}`, async () => {
        await attacker.set(`signed:session:/echo/${id}`, MADE_UP);
        assert.equal((await POST(`${d.echoUrl}/000/${id}/xhr_send`, { body: '["secret"]' })).status, 404);
        await attacker.set(`signed:session:/echo/${id}`, `${MADE_UP} ${'A'.repeat(43)}`);
        assert.equal((await POST(`${d.echoUrl}/000/${id}/xhr_send`, { body: '["secret"]' })).status, 404);
      });
      assert.deepEqual(heard, []);
      assert.equal(d.broker.dropped().unsigned - before.unsigned, 1);
      assert.equal(d.broker.dropped().forged - before.forged, 1);
    });

    it('works as before between brokers that share the secret', async () => {
      const session = await RelayedSession.open(c, d, `signedecho${Date.now()}`);
      sessions.push(session);
      for (const message of ['one', 'two', 'three']) assert.equal(await session.send(message), 204);
      await receivedAtLeast(session.received, 3);
      assert.deepEqual(session.received, ['one', 'two', 'three']);
      const client = await websocketClient(d);
      assert.equal(await c.broker.publishTo('room', 'to the room'), 2);
      assert.equal(await client.nextMessage(), 'to the room');
      await client.close();
    });
  });
});
