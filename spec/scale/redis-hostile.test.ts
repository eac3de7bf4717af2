/**
 * A property of sockjs-express/redis against a real redis-server: whatever a client of the
 * same Redis publishes on the brokers' channels, no process fails and every healthy session
 * keeps echoing, with no message lost, doubled or out of order, and none closed. With a
 * secret, the published messages have no effect at all: every one is dropped, and the
 * clients receive their echoes and nothing else.
 *
 * The payloads come from a seeded generator (spec/helpers/hostile-payloads.ts); the seed is
 * printed, and `FUZZ_SEED=<seed>` replays a run. `FUZZ_SCALE=10` runs ten times as many rounds.
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ScratchDir, startRedis, type RedisProcess } from '../../scripts/cluster/processes';
import { requireBinary } from '../helpers/cluster';
import { HostilePayloads, Random } from '../helpers/hostile-payloads';
import {
  ROOM,
  RelayedSession,
  connectRedis,
  startSide,
  stopSide,
  websocketClient,
  type RedisConnection,
  type Side,
} from '../helpers/redis-bed';
import { until } from '../helpers/server';
import type { ClientHarness } from '../helpers/sockjs-client';

const redisServer = requireBinary('redis-server', 'redis-server');

const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : randomInt(2 ** 31);
const ROUNDS = 30 * Number(process.env.FUZZ_SCALE ?? 1);
/** Hostile payloads per channel per round. */
const PER_CHANNEL = 4;
const MADE_UP = 'intruder/4242/0badc0de';

console.log(`redis-hostile: FUZZ_SEED=${SEED} (${ROUNDS} rounds)`);

/** A healthy session: how it sends, and what it has received. */
interface Healthy {
  readonly name: string;
  send(message: string): Promise<void>;
  readonly received: readonly unknown[];
  closed(): boolean;
}

function fromHarness(name: string, client: ClientHarness): Healthy {
  return {
    name,
    send: async (message) => client.client.send(message),
    received: client.received,
    closed: () => client.closeEvents > 0,
  };
}

function fromRelayed(name: string, session: RelayedSession): Healthy {
  return {
    name,
    send: async (message) => {
      const status = await session.send(message);
      if (status !== 204) throw new Error(`${name}: a send got ${status}`);
    },
    received: session.received,
    closed: () => session.ended || session.closes.length > 0,
  };
}

function totalDropped(side: Side): number {
  return Object.values(side.broker.dropped()).reduce((sum, count) => sum + count, 0);
}

for (const secret of [undefined, 'the secret these brokers share']) {
  const mode = secret === undefined ? 'without a secret' : 'with a secret';
  const channel = secret === undefined ? 'hostile' : 'hostile-signed';

  describe(`sockjs-express/redis under hostile publishing, ${mode}`, { skip: redisServer.skip }, () => {
    let dir: ScratchDir;
    let redis: RedisProcess;
    let attacker: RedisConnection;
    let capture: RedisConnection;
    const captured: { channel: string; message: string }[] = [];
    const sides: Side[] = [];
    const healthy: Healthy[] = [];
    const relayed: RelayedSession[] = [];
    const harnesses: ClientHarness[] = [];
    const failures: unknown[] = [];
    const recordFailure = (error: unknown): void => {
      failures.push(error);
    };

    before(async () => {
      process.on('uncaughtException', recordFailure);
      process.on('unhandledRejection', recordFailure);
      dir = new ScratchDir('sockjs-redis-hostile-');
      redis = await startRedis(redisServer.path as string, dir);
      attacker = await connectRedis(redis.url);
      capture = attacker.duplicate();
      await capture.connect();
      await capture.pSubscribe(`${channel}:*`, (message: string, from: string) => {
        if (captured.length < 500) captured.push({ channel: from, message });
      });
      for (let i = 0; i < 2; i++) sides.push(await startSide(redis.url, { channel, secret }));
      const [a, b] = sides;
      for (const [name, side] of [
        ['websocket at A', a],
        ['websocket at B', b],
      ] as const) {
        const client = await websocketClient(side);
        harnesses.push(client);
        healthy.push(fromHarness(name, client));
      }
      relayed.push(await RelayedSession.open(a, b, `heldbya${Date.now()}`));
      relayed.push(await RelayedSession.open(b, a, `heldbyb${Date.now()}`));
      healthy.push(fromRelayed('held by A, through B', relayed[0]));
      healthy.push(fromRelayed('held by B, through A', relayed[1]));
      // Every connection has joined the room once the group channel has both processes.
      await until(() => sides.every((side) => side.connections.length === 2), 5000, 'four connections');
      for (let i = 0; i < 200; i++) {
        const reply = (await attacker.sendCommand([
          'PUBSUB',
          'NUMSUB',
          `${channel}:group:${ROOM}`,
        ])) as unknown[];
        if (Number(reply[1]) === 2) break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    });

    after(async () => {
      for (const session of relayed) session.close();
      await Promise.all(harnesses.map((client) => client.close().catch(() => undefined)));
      for (const side of sides) await stopSide(side);
      if (capture?.isOpen) await capture.close();
      if (attacker?.isOpen) await attacker.close();
      await redis?.child.kill();
      dir?.remove();
      process.off('uncaughtException', recordFailure);
      process.off('unhandledRejection', recordFailure);
    });

    it('keeps every session echoing in order, and fails nowhere', async () => {
      const [a, b] = sides;
      const channels = ((await attacker.sendCommand(['PUBSUB', 'CHANNELS', '*'])) as string[]).sort();
      assert.deepEqual(
        channels,
        [
          `${channel}:all`,
          `${channel}:group:${ROOM}`,
          `${channel}:node:${a.broker.id}`,
          `${channel}:node:${b.broker.id}`,
        ].sort(),
        'the channels the brokers use',
      );
      assert.deepEqual(await attacker.sendCommand(['PUBSUB', 'SHARDCHANNELS']), [], 'no shard channels');

      const random = new Random(SEED);
      const payloads = new HostilePayloads(random, {
        madeUp: MADE_UP,
        nodes: sides.map((side) => side.broker.id),
        victims: relayed.map((session) => session.key(channel)),
        captured,
        signed: secret !== undefined,
      });
      const droppedBefore = sides.map(totalDropped);
      // Without a secret, what is published on these is a message to every connection.
      const [allChannel, groupChannel] = [`${channel}:all`, `${channel}:group:${ROOM}`];
      const broadcasts: string[] = [];
      let reachedByHostile = 0;
      const publishRound = async (): Promise<void> => {
        for (const target of channels) {
          for (let i = 0; i < PER_CHANNEL; i++) {
            const { channel: on, payload } = payloads.next(target, channels);
            // The capturing pattern subscription is counted too: it is no broker.
            reachedByHostile += (await attacker.publish(on, payload)) - 1;
            if (on === allChannel || on === groupChannel) broadcasts.push(payload.toString());
          }
        }
      };
      const expected = new Map<Healthy, string[]>(healthy.map((session) => [session, []]));
      for (let round = 0; round < ROUNDS; round++) {
        const sends = healthy.map(async (session) => {
          const message = `${session.name} #${round}`;
          expected.get(session)?.push(message);
          await session.send(message);
        });
        await Promise.all([publishRound(), ...sends]);
      }

      const echoes = (session: Healthy): string[] =>
        session.received.map(String).filter((message) => message.startsWith(`${session.name} #`));
      const everything = secret === undefined ? ROUNDS + broadcasts.length : ROUNDS;
      await until(
        () => healthy.every((session) => session.received.length >= everything || session.closed()),
        30_000,
        'every echo',
      );
      for (const session of healthy) {
        assert.equal(session.closed(), false, `${session.name} is open`);
        assert.deepEqual(
          echoes(session),
          expected.get(session),
          `${session.name}: every echo once, in order`,
        );
        if (secret !== undefined) {
          assert.deepEqual(
            session.received.map(String),
            expected.get(session),
            `${session.name}: nothing else`,
          );
        }
      }
      for (const side of sides) assert.deepEqual(side.closed, [], 'no connection closed');
      assert.deepEqual(failures, [], 'no uncaught exception or unhandled rejection');
      assert.equal(({} as Record<string, unknown>).type, undefined, 'Object.prototype is untouched');

      if (secret !== undefined) {
        // Every copy of every hostile message that reached a broker was dropped, before use.
        await until(
          () =>
            sides.reduce((sum, side, i) => sum + totalDropped(side) - droppedBefore[i], 0) >=
            reachedByHostile,
          10_000,
          'every hostile message dropped',
        );
        const dropped = sides.reduce((sum, side, i) => sum + totalDropped(side) - droppedBefore[i], 0);
        assert.equal(dropped, reachedByHostile);
        for (const side of sides) {
          const { misaddressed, faulted } = side.broker.dropped();
          assert.deepEqual(
            { misaddressed, faulted },
            { misaddressed: 0, faulted: 0 },
            'nothing got past the signature',
          );
        }
      }
    });
  });
}
