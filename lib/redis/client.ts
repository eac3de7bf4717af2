/**
 * What the broker needs of a Redis client: the small part of node-redis (the `redis`
 * package, version 4 or later) it calls. Typed structurally, so this module never loads
 * `redis` itself: the application's own client is used.
 */

/** Listener of one pub/sub channel: node-redis calls it with the message and the channel. */
export type ChannelListener = (message: string, channel: string) => void;

/**
 * The broker's own subscriber connection, made with `redis.duplicate()`: a connection
 * that has subscribed can run no other command.
 */
export interface RedisSubscriber {
  connect(): Promise<unknown>;
  subscribe(channel: string, listener: ChannelListener): Promise<unknown>;
  unsubscribe(channel: string, listener: ChannelListener): Promise<unknown>;
  on(event: 'error', listener: (error: Error) => void): unknown;
  /** node-redis 5 and later. */
  close?(): Promise<unknown>;
  /** node-redis 4 (deprecated later). */
  quit?(): Promise<unknown>;
  /** Every version: drops the connection at once. */
  disconnect?(): Promise<unknown>;
  /**
   * node-redis: true while connected, once its subscriptions are in place again after a
   * reconnect. A client without it counts as ready.
   */
  readonly isReady?: boolean;
}

/**
 * A connected node-redis client (`createClient({ url })` after `await client.connect()`).
 * The broker publishes and keeps its keys with it, and duplicates it for its subscriptions.
 */
export interface RedisClient {
  sendCommand(args: string[]): Promise<unknown>;
  duplicate(): RedisSubscriber;
  /**
   * node-redis: true while connected. While it is false the broker sends nothing and
   * rejects at once, rather than let node-redis queue a command until Redis is back. A
   * client without it counts as ready.
   */
  readonly isReady?: boolean;
}

/** The error of a command the broker did not send because its client was not connected. */
export function notConnected(): Error {
  return Object.assign(new Error('sockjs-express/redis: Redis is not connected; nothing was sent'), {
    code: 'ERR_SOCKJS_REDIS_OFFLINE',
  });
}

/** Closes a subscriber connection with whichever method its client version has. */
export async function closeSubscriber(subscriber: RedisSubscriber): Promise<void> {
  if (typeof subscriber.close === 'function') await subscriber.close();
  else if (typeof subscriber.quit === 'function') await subscriber.quit();
  else if (typeof subscriber.disconnect === 'function') await subscriber.disconnect();
}

/** Checks, at creation time, that `value` looks like a node-redis client. */
export function checkClient(value: unknown): asserts value is RedisClient {
  const client = value as Partial<RedisClient> | null;
  if (
    client === null ||
    typeof client !== 'object' ||
    typeof client.sendCommand !== 'function' ||
    typeof client.duplicate !== 'function'
  ) {
    throw new TypeError(
      'sockjs-express/redis: option redis must be a connected node-redis client (createClient() from the "redis" package)',
    );
  }
}
