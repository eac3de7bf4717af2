/** A node-redis client (`createClient()` of the `redis` package, version 4.6 or later). */
import { count, type ChannelListener, type RedisLink } from '../client';

/** What every node-redis connection the broker opens can do to end. */
export interface NodeRedisClosable {
  /** node-redis 5 and later. */
  close?(): Promise<unknown>;
  /** node-redis 4 (deprecated later). */
  quit?(): Promise<unknown>;
  /** Every version: drops the connection at once. */
  disconnect?(): Promise<unknown>;
}

/**
 * The broker's own subscriber connection, made with `redis.duplicate()`: a connection
 * that has subscribed can run no other command.
 */
export interface RedisSubscriber extends NodeRedisClosable {
  connect(): Promise<unknown>;
  subscribe(channel: string, listener: ChannelListener): Promise<unknown>;
  unsubscribe(channel: string, listener: ChannelListener): Promise<unknown>;
  on(event: 'error', listener: (error: Error) => void): unknown;
  /** True while connected, once its subscriptions are in place again after a reconnect. */
  readonly isReady?: boolean;
}

/**
 * A connected node-redis client (`createClient({ url })` after `await client.connect()`).
 * The broker publishes and keeps its keys with it, and duplicates it for its subscriptions.
 */
export interface NodeRedisClient {
  sendCommand(args: string[]): Promise<unknown>;
  duplicate(): RedisSubscriber;
  /** True while connected (node-redis 4 and later); a client without it counts as connected. */
  readonly isReady?: boolean;
}

/** Closes a node-redis connection with whichever method its version has. */
export async function closeNodeRedis(connection: NodeRedisClosable): Promise<void> {
  if (typeof connection.close === 'function') await connection.close();
  else if (typeof connection.quit === 'function') await connection.quit();
  else if (typeof connection.disconnect === 'function') await connection.disconnect();
}

/** Classic pub/sub on one server: PUBLISH and SUBSCRIBE. */
export function linkNodeRedis(client: NodeRedisClient): RedisLink {
  return {
    kind: 'node-redis',
    sharded: false,
    get ready() {
      return client.isReady !== false;
    },
    command: (_key, args) => client.sendCommand([...args]),
    publish: async (channel, message) => count(await client.sendCommand(['PUBLISH', channel, message])),
    async openSubscriber(fault) {
      const subscriber = client.duplicate();
      // node-redis throws errors nobody listens to; the subscriber reconnects by itself.
      subscriber.on('error', fault);
      await subscriber.connect();
      return {
        subscribe: (channel, listener) => subscriber.subscribe(channel, listener),
        unsubscribe: (channel, listener) => subscriber.unsubscribe(channel, listener),
        close: () => closeNodeRedis(subscriber),
        get ready() {
          return subscriber.isReady !== false;
        },
      };
    },
  };
}
