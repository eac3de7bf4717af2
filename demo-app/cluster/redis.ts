/**
 * The demo's own use of Redis when several demo processes share one: the client the broker
 * uses (node-redis or ioredis, on one server or a Redis Cluster), and the chat room's
 * member list across processes.
 */
import { Cluster, Redis } from 'ioredis';
import { createClient, createCluster } from 'redis';
import type { RedisClient } from '../../lib/redis/index';
import type { Member, Roster } from '../chat';

/** The client libraries the demo can use (REDIS_CLIENT). */
export const REDIS_LIBRARIES = ['node-redis', 'ioredis'] as const;
export type RedisLibrary = (typeof REDIS_LIBRARIES)[number];

/** Where the demo's Redis is, and how to talk to it. */
export interface RedisSettings {
  /** `redis://host:port`: the server, or some nodes of the cluster. */
  readonly urls: readonly string[];
  /** A Redis Cluster (REDIS_CLUSTER=1): sharded pub/sub. */
  readonly cluster: boolean;
  readonly library: RedisLibrary;
}

/** A connected client, what the demo runs on it, and how to close it. */
export interface DemoRedis {
  /** What the broker takes. */
  readonly client: RedisClient;
  /** One command that touches `key` alone (a cluster sends it to the key's shard). */
  command(key: string, args: string[]): Promise<unknown>;
  close(): Promise<void>;
}

function report(error: Error): void {
  console.error(`demo: redis: ${error.message}`);
}

async function connectIoredis(settings: RedisSettings): Promise<DemoRedis> {
  const client = settings.cluster
    ? new Cluster(
        settings.urls.map((url) => {
          const { hostname, port } = new URL(url);
          return { host: hostname, port: Number(port || 6379) };
        }),
        // Commands wait until every slot is served (CLUSTER INFO says ok).
        { enableReadyCheck: true },
      )
    : new Redis(settings.urls[0]);
  client.on('error', report);
  if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve));
  return {
    client,
    command: (_key, args) => client.call(args[0], ...args.slice(1)),
    close: async () => {
      if (client.status !== 'end') await client.quit();
    },
  };
}

async function connectNodeRedis(settings: RedisSettings): Promise<DemoRedis> {
  if (settings.cluster) {
    const cluster = createCluster({ rootNodes: settings.urls.map((url) => ({ url })) });
    cluster.on('error', report);
    await cluster.connect();
    return {
      client: cluster,
      command: (key, args) => cluster.sendCommand(key, false, args),
      close: async () => (cluster.isOpen ? cluster.close() : undefined),
    };
  }
  const client = createClient({ url: settings.urls[0] });
  // node-redis throws errors nobody listens to; it reconnects by itself.
  client.on('error', report);
  await client.connect();
  return {
    client,
    command: (_key, args) => client.sendCommand(args),
    close: async () => (client.isOpen ? client.close() : undefined),
  };
}

/** Connects as `settings` say; connection errors are printed, and the clients reconnect by themselves. */
export function connectRedis(settings: RedisSettings): Promise<DemoRedis> {
  return settings.library === 'ioredis' ? connectIoredis(settings) : connectNodeRedis(settings);
}

/** How long a process's part of the member list outlives the process (it is renewed meanwhile). */
const ROSTER_TTL_MS = 15_000;
/** One hash tag: on a cluster, the roster's keys share a slot, so no listing spans the shards. */
const ROSTER_TAG = '{demo:chat}';
const INSTANCES_KEY = `${ROSTER_TAG}:instances`;

/**
 * Who is in the chat room, on every process: one Redis hash per process, renewed while the
 * process runs, so the members of a process that died disappear within ROSTER_TTL_MS; a
 * set names the processes' hashes.
 */
export class RedisRoster implements Roster {
  private readonly key: string;
  private readonly instance: string;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly redis: DemoRedis,
    instance: string,
  ) {
    this.instance = instance;
    this.key = `${ROSTER_TAG}:members:${instance}`;
    // A process restarted under the same name starts with an empty part.
    this.report(this.run(['DEL', this.key]));
    this.report(this.run(['SADD', INSTANCES_KEY, instance], INSTANCES_KEY));
    this.timer = setInterval(() => this.renew(), ROSTER_TTL_MS / 3);
    this.timer.unref();
  }

  add(id: string, member: Member): void {
    this.report(this.run(['HSET', this.key, id, JSON.stringify(member)]));
    this.renew();
  }

  remove(id: string): void {
    this.report(this.run(['HDEL', this.key, id]));
  }

  /** Every member of every live process (the values `add()` was given). */
  async list(): Promise<readonly Member[]> {
    const members: Member[] = [];
    const instances = (await this.run(['SMEMBERS', INSTANCES_KEY], INSTANCES_KEY)) as string[];
    for (const instance of instances) {
      const key = `${ROSTER_TAG}:members:${instance}`;
      const fields = (await this.run(['HVALS', key], key)) as string[];
      for (const field of fields) members.push(JSON.parse(field) as Member);
    }
    return members;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.run(['DEL', this.key]).catch(() => undefined);
  }

  private renew(): void {
    this.report(this.run(['PEXPIRE', this.key, String(ROSTER_TTL_MS)]));
    this.report(this.run(['SADD', INSTANCES_KEY, this.instance], INSTANCES_KEY));
  }

  private run(args: string[], key = this.key): Promise<unknown> {
    return this.redis.command(key, args);
  }

  private report(command: Promise<unknown>): void {
    command.catch((error: unknown) => {
      console.error(`demo: redis: ${error instanceof Error ? error.message : String(error)}`);
    });
  }
}
