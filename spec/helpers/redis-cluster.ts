/**
 * The Redis setups the broker specs run against: node-redis and ioredis, each on one
 * redis-server and on a three-master Redis Cluster started on loopback
 * (scripts/cluster/redis-cluster.ts). A spec starts a `RedisBed` for its setup, connects
 * clients of the setup's library to it, and looks at Redis through the bed.
 */
import { connectRedis, type DemoRedis, type RedisLibrary } from '../../demo-app/cluster/redis';
import { channelNames, type ChannelNames } from '../../lib/redis/channels';
import {
  ScratchDir,
  startRedis,
  type DemoInstanceOptions,
  type RedisProcess,
} from '../../scripts/cluster/processes';
import { startRedisCluster, type RedisClusterProcess } from '../../scripts/cluster/redis-cluster';
import { requireBinary } from './cluster';

export const redisServer = requireBinary('redis-server', 'redis-server');
export const redisCli = requireBinary('redis-cli', 'redis-tools');

/** One way to run the broker's Redis. */
export interface RedisSetup {
  readonly library: RedisLibrary;
  readonly cluster: boolean;
  /** `node-redis on one server`, `ioredis on a three-shard cluster`, ... */
  readonly name: string;
  /** Why the specs of this setup are skipped here, or false. */
  readonly skip: string | false;
}

function setup(library: RedisLibrary, cluster: boolean): RedisSetup {
  return {
    library,
    cluster,
    name: `${library} on ${cluster ? 'a three-shard cluster' : 'one server'}`,
    skip: redisServer.skip || (cluster && redisCli.skip),
  };
}

/** Every setup; the first is the one of the specs that run once. */
export const REDIS_SETUPS: readonly RedisSetup[] = [
  setup('node-redis', false),
  setup('ioredis', false),
  setup('node-redis', true),
  setup('ioredis', true),
];

/** A running Redis (one server, or a cluster) of one setup, and a look into it. */
export class RedisBed {
  private constructor(
    readonly setup: RedisSetup,
    private readonly dir: ScratchDir,
    private readonly server: RedisProcess | null,
    private readonly clusterNodes: RedisClusterProcess | null,
    /** A node-redis client (or cluster client) the bed reads keys with. */
    private readonly inspector: DemoRedis,
    /** A node-redis client of each server (each master of the cluster). */
    private readonly servers: readonly DemoRedis[],
  ) {}

  static async start(setup: RedisSetup): Promise<RedisBed> {
    const dir = new ScratchDir('sockjs-redis-');
    try {
      const cluster = setup.cluster
        ? await startRedisCluster(redisServer.path as string, redisCli.path as string, dir)
        : null;
      const server = cluster === null ? await startRedis(redisServer.path as string, dir) : null;
      const urls = cluster?.nodes.map((node) => node.url) ?? [(server as RedisProcess).url];
      const inspector = await connectRedis({ urls, cluster: setup.cluster, library: 'node-redis' });
      const servers = await Promise.all(
        urls.map((url) => connectRedis({ urls: [url], cluster: false, library: 'node-redis' })),
      );
      return new RedisBed(setup, dir, server, cluster, inspector, servers);
    } catch (error) {
      dir.remove();
      throw error;
    }
  }

  /** `redis://` URLs of the server, or of every master of the cluster. */
  get urls(): string[] {
    if (this.server !== null) return [this.server.url];
    return (this.clusterNodes as RedisClusterProcess).nodes.map((node) => node.url);
  }

  /** The names of the channels of brokers with `channel` on this bed. */
  names(channel: string): ChannelNames {
    return channelNames(channel, this.setup.cluster);
  }

  /** A client of the setup's library, connected, as an application holds it. */
  connect(): Promise<DemoRedis> {
    return connectRedis({ urls: this.urls, cluster: this.setup.cluster, library: this.setup.library });
  }

  /** What demo processes need to use this bed with the setup's library. */
  get demoOptions(): Pick<DemoInstanceOptions, 'redisUrl' | 'redisCluster' | 'redisClient'> {
    return {
      redisUrl: this.urls.join(','),
      redisCluster: this.setup.cluster,
      redisClient: this.setup.library,
    };
  }

  /** One command, run on the node of `key` (any node without a cluster). */
  command(key: string, args: string[]): Promise<unknown> {
    return this.inspector.command(key, args);
  }

  /** One command on every server (every master of the cluster), in order. */
  onEachServer(args: string[]): Promise<unknown[]> {
    return Promise.all(this.servers.map((server) => server.command('', args)));
  }

  /**
   * How many connections Redis counts on a channel (sharded ones on a cluster), on every
   * node: PUBSUB SHARDNUMSUB answers for the node it is sent to, and cluster clients do
   * not route it by the channel.
   */
  async subscribers(channel: string): Promise<number> {
    const sub = this.clusterNodes === null ? 'NUMSUB' : 'SHARDNUMSUB';
    const replies = (await this.onEachServer(['PUBSUB', sub, channel])) as [string, number][];
    return replies.reduce((sum, reply) => sum + Number(reply[1]), 0);
  }

  /**
   * Moves the hash slot of `key` (a channel name) to another master, as a resharding does
   * (SETSLOT IMPORTING and MIGRATING, then NODE on every master); the slot holds no keys.
   * Resolves with the slot's new master's URL.
   */
  async moveSlotOf(key: string): Promise<string> {
    const slot = String(await this.servers[0].command('', ['CLUSTER', 'KEYSLOT', key]));
    const ids = (await this.onEachServer(['CLUSTER', 'MYID'])).map(String);
    // `<id> <address> <flags> <master> <ping> <pong> <epoch> <link> <slot ranges...>`
    const table = String(await this.servers[0].command('', ['CLUSTER', 'NODES']));
    const owner = table
      .split('\n')
      .map((line) => line.split(' '))
      .find((fields) =>
        fields.slice(8).some((range) => {
          const [first, last = first] = range.split('-').map(Number);
          return Number(slot) >= first && Number(slot) <= last;
        }),
      )?.[0];
    const from = ids.indexOf(String(owner));
    if (from < 0) throw new Error(`no master serves slot ${slot}:\n${table}`);
    const to = (from + 1) % ids.length;
    const [source, target] = [this.servers[from], this.servers[to]];
    await target.command('', ['CLUSTER', 'SETSLOT', slot, 'IMPORTING', ids[from]]);
    await source.command('', ['CLUSTER', 'SETSLOT', slot, 'MIGRATING', ids[to]]);
    for (const server of [
      target,
      source,
      ...this.servers.filter((each) => each !== source && each !== target),
    ]) {
      await server.command('', ['CLUSTER', 'SETSLOT', slot, 'NODE', ids[to]]);
    }
    return this.urls[to];
  }

  /** The value of a key (an owner record), or null. */
  async get(key: string): Promise<string | null> {
    return (await this.command(key, ['GET', key])) as string | null;
  }

  async stop(): Promise<void> {
    for (const client of [this.inspector, ...this.servers]) await client.close().catch(() => undefined);
    await this.server?.child.kill();
    await this.clusterNodes?.stop();
    this.dir.remove();
  }
}
