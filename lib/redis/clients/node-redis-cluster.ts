/** A node-redis cluster client (`createCluster()` of the `redis` package, 4.6 or later). */
import { count, type ChannelListener, type RedisLink } from '../client';
import { closeNodeRedis, type NodeRedisClosable } from './node-redis';

/** The broker's own cluster client, made with `cluster.duplicate()`, for sharded subscriptions. */
export interface NodeRedisClusterSubscriber extends NodeRedisClosable {
  connect(): Promise<unknown>;
  sSubscribe(channel: string, listener: ChannelListener): Promise<unknown>;
  sUnsubscribe(channel: string, listener: ChannelListener): Promise<unknown>;
  on(event: 'error' | 'sharded-channel-moved-error', listener: (error: Error) => void): unknown;
  /** True while its connections are up. */
  readonly isReady?: boolean;
}

/**
 * A connected node-redis cluster client (`createCluster({ rootNodes })` after
 * `await cluster.connect()`).
 */
export interface NodeRedisCluster {
  sendCommand(
    firstKey: string | undefined,
    isReadonly: boolean | undefined,
    args: string[],
  ): Promise<unknown>;
  duplicate(): NodeRedisClusterSubscriber;
  /** Only a cluster client has it: how this kind is told from a one-server client. */
  getSlotRandomNode(slot: number): unknown;
  /** True while its connections are up; a client without it counts as connected. */
  readonly isReady?: boolean;
}

/**
 * Sharded pub/sub: SPUBLISH to the shard of the channel's slot, SSUBSCRIBE there. node-redis
 * follows MOVED and ASK replies, and moves a sharded subscription to the channel's new
 * shard when Redis reports its slot moved (`sharded-channel-moved`); when that fails it
 * emits `sharded-channel-moved-error`, which is logged.
 */
export function linkNodeRedisCluster(cluster: NodeRedisCluster): RedisLink {
  return {
    kind: 'node-redis cluster',
    sharded: true,
    get ready() {
      return cluster.isReady !== false;
    },
    command: (key, args) => cluster.sendCommand(key, false, [...args]),
    publish: async (channel, message) =>
      count(await cluster.sendCommand(channel, false, ['SPUBLISH', channel, message])),
    async openSubscriber(fault) {
      const subscriber = cluster.duplicate();
      subscriber.on('error', fault);
      subscriber.on('sharded-channel-moved-error', fault);
      await subscriber.connect();
      return {
        subscribe: (channel, listener) => subscriber.sSubscribe(channel, listener),
        unsubscribe: (channel, listener) => subscriber.sUnsubscribe(channel, listener),
        close: () => closeNodeRedis(subscriber),
        get ready() {
          return subscriber.isReady !== false;
        },
      };
    },
  };
}
