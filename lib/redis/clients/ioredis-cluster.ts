/** An ioredis Cluster (`new Cluster(startupNodes)` of the `ioredis` package). */
import { count, type RedisLink } from '../client';
import { dispatching, whenReady, type IoredisConnection } from './ioredis';

/** The broker's own Cluster, made with `cluster.duplicate([], { shardedSubscribers: true })`. */
export interface IoredisClusterSubscriber extends IoredisConnection {
  ssubscribe(channel: string): Promise<unknown>;
  sunsubscribe(channel: string): Promise<unknown>;
  on(event: 'smessage', listener: (channel: string, message: string) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/** An ioredis Cluster (`new Cluster([{ host, port }])`). */
export interface IoredisCluster {
  readonly status: string;
  readonly isCluster: boolean;
  call(command: string, ...args: string[]): Promise<unknown>;
  duplicate(startupNodes: never[], options: { shardedSubscribers: boolean }): IoredisClusterSubscriber;
  /** Only a Cluster has it. */
  nodes(role?: 'all' | 'master' | 'slave'): unknown[];
}

/**
 * Sharded pub/sub: SPUBLISH to the shard of the channel's slot (ioredis routes a command by
 * its key and follows MOVED and ASK), and SSUBSCRIBE with a duplicate that has
 * `shardedSubscribers` on: one subscriber connection per master, moved along when slots
 * move. Without that option ioredis would send every SSUBSCRIBE to a single node.
 */
export function linkIoredisCluster(cluster: IoredisCluster): RedisLink {
  return {
    kind: 'ioredis Cluster',
    sharded: true,
    get ready() {
      return cluster.status === 'ready';
    },
    command: (_key, args) => cluster.call(args[0], ...args.slice(1)),
    publish: async (channel, message) => count(await cluster.call('SPUBLISH', channel, message)),
    async openSubscriber(fault) {
      const subscriber = cluster.duplicate([], { shardedSubscribers: true });
      subscriber.on('error', fault);
      await whenReady(subscriber);
      return dispatching(
        subscriber,
        {
          subscribe: (channel) => subscriber.ssubscribe(channel),
          unsubscribe: (channel) => subscriber.sunsubscribe(channel),
        },
        (deliver) => subscriber.on('smessage', deliver),
      );
    },
  };
}
