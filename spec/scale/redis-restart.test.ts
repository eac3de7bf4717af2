/**
 * sockjs-express/redis when its redis-server goes away and comes back on the same port,
 * empty (nothing saved): brokers in three "processes" with real sockjs-client connections,
 * balanced with sticky sessions (every request of a session reaches its process), then with
 * forwarding behind a round-robin proxy (any process serves any request).
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createBroker } from '../../lib/redis';
import { ScratchDir, startRedis, type RedisProcess } from '../../scripts/cluster/processes';
import { requireBinary } from '../helpers/cluster';
import { POST } from '../helpers/http';
import { RelayedSession, ROOM, startSide, stopSide, type Side } from '../helpers/redis-bed';
import { delay, listen, until, type TestServer } from '../helpers/server';
import { ClientHarness, type NodeClientTransport } from '../helpers/sockjs-client';

const redisServer = requireBinary('redis-server', 'redis-server');

/** How long a publish() made while Redis is down may take to settle. */
const SETTLE_MS = 1000;
/** How long the brokers may take to notice that Redis is gone. */
const GONE_MS = 3000;
/** How long the brokers may take to be back once redis-server is (node-redis retries every 2 s at most). */
const BACK_MS = 10_000;

/** Rejections nobody handled, and exceptions nobody caught, while a test ran. */
const unhandled: unknown[] = [];
const recordUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};

type Outcome<T> =
  { status: 'fulfilled'; value: T } | { status: 'rejected'; reason: unknown } | { status: 'pending' };

/** How `promise` settled within `ms`, or 'pending'. */
async function settled<T>(promise: Promise<T>, ms: number): Promise<Outcome<T>> {
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise<Outcome<T>>((resolve) => {
    timer = setTimeout(() => resolve({ status: 'pending' }), ms);
  });
  try {
    return await Promise.race([
      promise.then(
        (value): Outcome<T> => ({ status: 'fulfilled', value }),
        (reason: unknown): Outcome<T> => ({ status: 'rejected', reason }),
      ),
      pending,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Asserts that `outcome` is a rejection because the broker was not connected. */
function assertOffline(outcome: Outcome<unknown>, what: string): void {
  assert.equal(outcome.status, 'rejected', `${what} settles, rejected, within ${SETTLE_MS} ms`);
  const { reason } = outcome as { reason: { code?: unknown } };
  assert.equal(reason.code, 'ERR_SOCKJS_REDIS_OFFLINE', `${what}: ${String(reason)}`);
}

/**
 * Waits until every side's client knows that Redis is gone. Before, in the instant between
 * Redis closing a connection and node-redis noticing, node-redis takes a command into its
 * offline queue, to send once Redis is back (docs/scale-out.md, "When Redis restarts").
 */
function redisGone(sides: readonly Side[]): Promise<void> {
  return until(
    () => sides.every((side) => !side.redis.isReady && !side.broker.ready),
    GONE_MS,
    'every process to see that Redis is gone',
  );
}

/** Subscribers Redis counts on a channel. */
async function subscribers(side: Side, channel: string): Promise<number> {
  const reply = (await side.redis.sendCommand(['PUBSUB', 'NUMSUB', channel])) as [string, number];
  return Number(reply[1]);
}

/** A balancer without stickiness: each request goes to the next side in turn. */
function roundRobin(sides: readonly Side[]): Promise<TestServer> {
  let next = 0;
  return listen((req, res) => {
    const side = sides[next++ % sides.length];
    const upstream = httpRequest(
      { host: '127.0.0.1', port: side.server.port, path: req.url, method: req.method, headers: req.headers },
      (response) => {
        res.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
}

describe('sockjs-express/redis when Redis restarts', { skip: redisServer.skip }, () => {
  let dir: ScratchDir;
  let redis: RedisProcess;

  before(async () => {
    dir = new ScratchDir('sockjs-redis-restart-');
    redis = await startRedis(redisServer.path as string, dir);
    process.on('unhandledRejection', recordUnhandled);
    process.on('uncaughtException', recordUnhandled);
  });

  after(async () => {
    process.off('unhandledRejection', recordUnhandled);
    process.off('uncaughtException', recordUnhandled);
    await redis?.child.kill();
    dir?.remove();
  });

  beforeEach(() => {
    unhandled.length = 0;
  });

  afterEach(() => {
    assert.deepEqual(unhandled, [], 'no unhandled rejection, no uncaught exception');
  });

  /** Starts redis-server again, empty, on the port it had. */
  async function restartRedis(): Promise<void> {
    redis = await startRedis(redisServer.path as string, dir, false, redis.port);
  }

  const stops: [string, () => Promise<void>][] = [
    ['killed (SIGKILL)', () => redis.child.kill()],
    ['shut down (SIGTERM, as SHUTDOWN)', () => redis.child.stop('SIGTERM')],
  ];

  describe('with sticky balancing', () => {
    const sides: Side[] = [];
    const clients: ClientHarness[] = [];

    before(async () => {
      for (let i = 0; i < 3; i++) {
        sides.push(await startSide(redis.url, { channel: 'sticky' }, { forward: false, quiet: true }));
      }
    });

    after(async () => {
      await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
      for (const side of sides) await stopSide(side);
    });

    async function open(side: Side, transport: NodeClientTransport): Promise<ClientHarness> {
      const client = new ClientHarness(side.echoUrl, { transports: transport });
      clients.push(client);
      await client.open();
      return client;
    }

    const allReady = (): boolean => sides.every((side) => side.broker.ready);

    for (const [how, stop] of stops) {
      it(`loses only what was published while Redis was ${how}, and closes no session`, async () => {
        const opened: ClientHarness[] = [];
        const connectionsBefore = sides.map((side) => side.connections.length);
        for (const side of sides) {
          opened.push(await open(side, 'websocket'), await open(side, 'xhr-streaming'));
        }
        await until(
          () => sides.every((side, i) => side.connections.length === connectionsBefore[i] + 2),
          2000,
          'the connections',
        );
        const closedBefore = sides.map((side) => side.closed.length);
        // Each publisher's messages, in the order it published them.
        const expected = sides.map((): string[] => []);
        // The connections join ROOM as they open: wait for the subscriptions.
        await until(() => sides.every((side) => side.broker.groupsOf(side.connections.at(-1)!).length > 0));
        for (const [i, side] of sides.entries()) {
          assert.equal(await side.broker.publish(`before ${i}`), 3);
          assert.equal(await side.broker.publishTo(ROOM, `room before ${i}`), 3);
          expected[i].push(`before ${i}`, `room before ${i}`);
        }

        await stop();
        await redisGone(sides);
        const started = Date.now();
        const down = await Promise.all(
          sides.flatMap((side, i) => [
            settled(side.broker.publish(`down ${i}`), SETTLE_MS),
            settled(side.broker.publishTo(ROOM, `room down ${i}`), SETTLE_MS),
          ]),
        );
        down.forEach((outcome, i) => assertOffline(outcome, `publish #${i} while Redis is down`));
        assert.ok(Date.now() - started < SETTLE_MS, 'they reject at once');

        await restartRedis();
        await until(allReady, BACK_MS, 'the brokers to be back');
        assert.equal(await subscribers(sides[0], 'sticky:all'), 3, 'every process subscribed again');
        assert.equal(await subscribers(sides[0], `sticky:group:${ROOM}`), 3, 'and to its groups');
        for (const [i, side] of sides.entries()) {
          assert.equal(await side.broker.publish(`after ${i}`), 3);
          assert.equal(await side.broker.publishTo(ROOM, `room after ${i}`), 3);
          expected[i].push(`after ${i}`, `room after ${i}`);
        }

        const count = expected.flat().length;
        await until(() => opened.every((client) => client.received.length >= count), 5000, 'the messages');
        await delay(100); // anything more, duplicated or late, would arrive now
        for (const client of opened) {
          const received = client.received.map(String);
          assert.equal(received.length, count, `no message twice, none published while down: ${received}`);
          expected.forEach((mine, i) =>
            assert.deepEqual(
              received.filter((message) => message.endsWith(` ${i}`)),
              mine,
              `publisher ${i}'s messages, in order`,
            ),
          );
          assert.equal(client.closeEvents, 0, 'the client did not close');
        }
        assert.deepEqual(
          sides.map((side) => side.closed.length),
          closedBefore,
          'no connection closed at the server',
        );
        for (const client of opened) {
          client.client.send('still there?');
        }
        await until(
          () => opened.every((client) => client.received.at(-1) === 'still there?'),
          5000,
          'the echoes',
        );
      });
    }

    it('joins made while Redis is down take effect once it is back', async () => {
      const [joiner, other] = [await open(sides[0], 'websocket'), await open(sides[1], 'websocket')];
      await until(() => sides[0].connections.length > 0 && sides[1].connections.length > 0);
      const [onFirst, onSecond] = [sides[0].connections.at(-1)!, sides[1].connections.at(-1)!];

      await redis.child.kill();
      await redisGone(sides);
      const joined = sides[0].broker.join(onFirst, 'later');
      const left = sides[1].broker.leave(onSecond, ROOM);
      await delay(200);

      await restartRedis();
      await until(allReady, BACK_MS, 'the brokers to be back');
      const outcomes = await Promise.all([settled(joined, BACK_MS), settled(left, BACK_MS)]);
      assert.deepEqual(
        outcomes.map((outcome) => outcome.status),
        ['fulfilled', 'fulfilled'],
      );
      assert.equal(await subscribers(sides[0], 'sticky:group:later'), 1);
      assert.equal(await sides[2].broker.publishTo('later', 'later on'), 1);
      assert.equal(await joiner.nextMessage(), 'later on');
      assert.equal(await sides[2].broker.publishTo(ROOM, 'room'), 3, 'the others are still in the room');
      await sides[2].broker.publish('everyone');
      assert.equal(await other.nextMessage(), 'everyone', 'the one who left heard nothing of the room');
    });

    it('makes a join refused while Redis is down once it is back (a client without offline queue)', async () => {
      const side = await startSide(
        redis.url,
        { channel: 'sticky' },
        { forward: false, quiet: true, offlineQueue: false },
      );
      const client = await open(side, 'websocket');
      try {
        await until(() => side.connections.length === 1);
        const joined = side.broker.join(side.connections[0], 'retried');
        await joined;
        await side.broker.leave(side.connections[0], 'retried');

        await redis.child.kill();
        await redisGone([side]);
        // node-redis refuses the SUBSCRIBE at its next failed reconnection attempt.
        const refused = await settled(side.broker.join(side.connections[0], 'retried'), 3000);
        assert.equal(refused.status, 'rejected', 'the join is refused while Redis is down');
        assertOffline(await settled(side.broker.publish('down'), SETTLE_MS), 'publish');
        assert.deepEqual(side.broker.groupsOf(side.connections[0]), [ROOM, 'retried'], 'still a member');

        await restartRedis();
        await until(() => side.broker.ready && allReady(), BACK_MS, 'the brokers to be back, subscribed');
        assert.equal(await subscribers(side, 'sticky:group:retried'), 1, 'subscribed once Redis is back');
        assert.equal(await sides[0].broker.publishTo('retried', 'made it'), 1);
        assert.equal(await client.nextMessage(), 'made it');
      } finally {
        // Before the server: it waits for its websockets.
        await client.close();
        await stopSide(side);
      }
    });
  });

  it('works the same with an ioredis client', async () => {
    const io = new Redis(redis.url, { lazyConnect: true });
    io.on('error', () => undefined); // ioredis reconnects by itself
    await io.connect();
    const broker = await createBroker({ redis: io, channel: 'ioredis' });
    const listener = await startSide(redis.url, { channel: 'ioredis' }, { forward: false, quiet: true });
    const client = new ClientHarness(listener.echoUrl, { transports: 'websocket' });
    try {
      await client.open();
      assert.equal(await broker.publish('before'), 2);
      assert.equal(await client.nextMessage(), 'before');

      await redis.child.kill();
      await until(() => io.status !== 'ready' && !broker.ready, GONE_MS, 'ioredis to see that Redis is gone');
      assertOffline(await settled(broker.publish('down'), SETTLE_MS), 'publish');

      await restartRedis();
      await until(() => broker.ready && listener.broker.ready, BACK_MS, 'the brokers to be back');
      await until(() => io.status === 'ready', BACK_MS, 'ioredis to be back');
      // ioredis says ready before its subscriptions are back: wait for them.
      for (let i = 0; i < 100 && (await subscribers(listener, 'ioredis:all')) < 2; i++) await delay(20);
      assert.equal(await broker.publish('after'), 2);
      assert.equal(await client.nextMessage(), 'after', 'the message published while down is lost');
      assert.equal(client.closeEvents, 0);
    } finally {
      await client.close();
      await broker.close();
      await stopSide(listener);
      io.disconnect();
    }
  });

  describe('with forwarding, behind a round-robin balancer', () => {
    const sides: Side[] = [];
    const clients: ClientHarness[] = [];
    let balancer: TestServer;
    let balancerUrl = '';

    before(async () => {
      for (let i = 0; i < 3; i++) {
        sides.push(
          await startSide(
            redis.url,
            // Renewed every second: renewals fall while Redis is down.
            { channel: 'forward', ownerTtl: 3000 },
            { service: { heartbeatDelay: 500, disconnectDelay: 1000 }, quiet: true },
          ),
        );
      }
      balancer = await roundRobin(sides);
      balancerUrl = `${balancer.url}/echo`;
    });

    after(async () => {
      await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
      await balancer?.close();
      for (const side of sides) await stopSide(side);
    });

    async function open(url: string, transport: NodeClientTransport): Promise<ClientHarness> {
      const client = new ClientHarness(url, { transports: transport });
      clients.push(client);
      await client.open();
      return client;
    }

    /** The client's next message is the echo of a message it sends now. */
    async function roundTrip(client: ClientHarness, message: string): Promise<void> {
      client.client.send(message);
      assert.equal(await client.nextMessage(), message);
    }

    it('ends the sessions whose records were lost, cleanly, and opens new ones once Redis is back', async () => {
      const polling = await open(balancerUrl, 'xhr-polling');
      const streaming = await open(balancerUrl, 'xhr-streaming');
      const websocket = await open(sides[0].echoUrl, 'websocket');
      for (const client of [polling, streaming, websocket]) await roundTrip(client, 'hello');
      const relayed = await RelayedSession.open(sides[1], sides[2], `relayed${Date.now()}`);
      const heldAt = sides[1].connections.at(-1)!;
      assert.equal(await relayed.send('through'), 204);
      await until(() => relayed.received.includes('through'), 2000, 'the relayed echo');

      await redis.child.kill();
      await redisGone(sides);

      // A relayed response ends with the frame of an interrupted session.
      await until(() => relayed.ended, 3000, 'the relayed stream to end');
      assert.deepEqual(relayed.closes, ['c[1002,"Connection interrupted"]']);
      // A send to a process that does not hold the session: 404 at once.
      const started = Date.now();
      assert.equal(await relayed.send('while down'), 404);
      assert.ok(Date.now() - started < SETTLE_MS, 'answered at once');
      // A new session opens at the process its first request reached, without a record.
      const lone = `lone${Date.now()}`;
      assert.equal((await POST(`${sides[2].echoUrl}/000/${lone}/xhr`)).body, 'o\n');
      assert.equal((await POST(`${sides[0].echoUrl}/000/${lone}/xhr_send`, { body: '["x"]' })).status, 404);
      assert.ok(Date.now() - started < SETTLE_MS, 'answered at once');
      // Websockets need no forwarding: they go on.
      await roundTrip(websocket, 'while down');
      // The HTTP clients talk on: each either goes on (its requests reached its owner) or
      // closes (one reached another process).
      for (const client of [polling, streaming]) {
        client.client.send('still there?');
      }
      await until(
        () =>
          [polling, streaming].every(
            (client) => client.closeEvents > 0 || client.received.at(-1) === 'still there?',
          ),
        5000,
        'each HTTP client to close or to hear its echo',
      );

      await delay(1500);
      await restartRedis();
      await until(() => sides.every((side) => side.broker.ready), BACK_MS, 'the brokers to be back');
      const renewals = sides.flatMap((side) => side.logged).filter((line) => /renew/.test(line.message));
      assert.deepEqual(renewals, [], 'no renewal tried while Redis was down');

      // The relayed session's record is gone: a process that did not hold it takes the id
      // over, and the client hears `o` again (the session is lost).
      assert.equal((await POST(`${sides[0].echoUrl}/009/${relayed.id}/xhr`)).body, 'o\n');
      // Every client closed or still talks; the closed ones open anew and work.
      const again: ClientHarness[] = [];
      for (const [client, transport] of [
        [polling, 'xhr-polling'],
        [streaming, 'xhr-streaming'],
      ] as const) {
        if (client.closeEvents > 0) again.push(await open(balancerUrl, transport));
        else await roundTrip(client, 'after');
      }
      for (const client of [...again, await open(balancerUrl, 'xhr-polling')]) {
        await roundTrip(client, 'new');
        await roundTrip(client, 'and more');
      }
      const fresh = await RelayedSession.open(sides[2], sides[0], `fresh${Date.now()}`);
      assert.equal(await fresh.send('fresh'), 204);
      await until(() => fresh.received.includes('fresh'), 2000, 'the fresh echo');
      fresh.close();
      relayed.close();
      // The session the lost record named ends at its old holder, as any session whose
      // client went away.
      await until(() => sides[1].closed.includes(heldAt), 5000, 'the old session to end');
      // Nothing is left behind: once the clients are gone, every session of every process ends.
      await Promise.all(clients.map((client) => client.close()));
      await until(
        () => sides.every((side) => side.connections.every((conn) => side.closed.includes(conn))),
        5000,
        'every session to end',
      );
    });
  });
});
