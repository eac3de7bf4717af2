/**
 * The one small interface the broker uses to reach Redis, whichever client the application
 * gave it: node-redis or ioredis, one server or a Redis Cluster. clients/ adapts each kind
 * to it; this package never loads a Redis client library itself.
 */

/** Listener of one pub/sub channel: called with the message and the channel. */
export type ChannelListener = (message: string, channel: string) => void;

/**
 * The broker's own subscriber connection (or, on a cluster, connections: one per shard
 * holding one of its channels), opened from the application's client. A connection that
 * has subscribed can run no other command, so it is never the application's.
 */
export interface SubscriberLink {
  /** Resolves once Redis has acknowledged the subscription. */
  subscribe(channel: string, listener: ChannelListener): Promise<unknown>;
  unsubscribe(channel: string, listener: ChannelListener): Promise<unknown>;
  /** Closes the subscriber connection(s); the application's client stays open. */
  close(): Promise<void>;
  /**
   * Whether the connection is up, its subscriptions restored after a reconnect (as far as
   * the client tells: node-redis's `isReady`, ioredis's `status`).
   */
  readonly ready: boolean;
}

/** What the broker needs of Redis. */
export interface RedisLink {
  /** The kind of client, for messages: `node-redis`, `node-redis cluster`, `ioredis`, ... */
  readonly kind: string;
  /**
   * On a Redis Cluster: channels are sharded (SPUBLISH and SSUBSCRIBE, Redis 7 and later),
   * and named so that each lands on one shard (channels.ts).
   */
  readonly sharded: boolean;
  /** Runs one command that touches `key` and no other key (a cluster routes it by `key`). */
  command(key: string, args: readonly string[]): Promise<unknown>;
  /** PUBLISH, or SPUBLISH when sharded; resolves with how many subscribers Redis gave it to. */
  publish(channel: string, message: string): Promise<number>;
  /** Opens and connects the broker's subscriber; `fault` hears its connection errors. */
  openSubscriber(fault: (error: Error) => void): Promise<SubscriberLink>;
  /**
   * Whether the application's client is connected. While it is not, the broker sends
   * nothing and rejects at once, rather than let the client queue a command until Redis is
   * back (docs/scale-out.md, "When Redis restarts").
   */
  readonly ready: boolean;
}

/** The error of a command the broker did not send because its client was not connected. */
export function notConnected(): Error {
  return Object.assign(new Error('sockjs-express/redis: Redis is not connected; nothing was sent'), {
    code: 'ERR_SOCKJS_REDIS_OFFLINE',
  });
}

/** A reply that should be a count (PUBLISH's), as a number. */
export function count(reply: unknown): number {
  return typeof reply === 'number' ? reply : Number(reply);
}
