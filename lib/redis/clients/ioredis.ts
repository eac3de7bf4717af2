/** An ioredis client (`new Redis(url)` of the `ioredis` package), and what its Cluster shares. */
import { count, type ChannelListener, type RedisLink, type SubscriberLink } from '../client';

/** What the broker uses of every ioredis connection it opens. */
export interface IoredisConnection {
  /** `wait` (lazyConnect), `connecting`, `ready`, ... `end`. */
  readonly status: string;
  connect(): Promise<unknown>;
  once(event: 'ready' | 'end', listener: () => void): unknown;
  removeListener(event: 'ready' | 'end', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  quit(): Promise<unknown>;
  disconnect(): unknown;
}

/** The broker's own subscriber connection, made with `redis.duplicate()`. */
export interface IoredisSubscriber extends IoredisConnection {
  subscribe(channel: string): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  on(event: 'message', listener: (channel: string, message: string) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/** An ioredis client (`new Redis(url)`). */
export interface IoredisClient {
  readonly status: string;
  readonly isCluster: boolean;
  call(command: string, ...args: string[]): Promise<unknown>;
  duplicate(): IoredisSubscriber;
}

/** Resolves once `connection` is ready; ioredis connects by itself unless `lazyConnect`. */
export function whenReady(connection: IoredisConnection): Promise<void> {
  if (connection.status === 'ready') return Promise.resolve();
  if (connection.status === 'wait') return connection.connect().then(() => undefined);
  return new Promise((resolve, reject) => {
    const ready = (): void => {
      connection.removeListener('end', ended);
      resolve();
    };
    const ended = (): void => {
      connection.removeListener('ready', ready);
      reject(new Error('sockjs-express/redis: the subscriber connection ended before it was ready'));
    };
    connection.once('ready', ready);
    connection.once('end', ended);
  });
}

/** QUIT, or, when the connection cannot say it, dropping it. */
export async function closeIoredis(connection: IoredisConnection): Promise<void> {
  try {
    await connection.quit();
  } catch {
    // It was not connected (or the server went away): nothing to say goodbye to.
    connection.disconnect();
  }
}

/**
 * ioredis emits every message of a connection as one event: this hands each to the
 * listener of its channel, so the connection looks like node-redis's to the broker.
 */
export function dispatching(
  connection: IoredisConnection,
  command: { subscribe(channel: string): Promise<unknown>; unsubscribe(channel: string): Promise<unknown> },
  listen: (deliver: (channel: string, message: string) => void) => void,
): SubscriberLink {
  const listeners = new Map<string, ChannelListener>();
  listen((channel, message) => listeners.get(channel)?.(message, channel));
  return {
    async subscribe(channel, listener) {
      listeners.set(channel, listener);
      await command.subscribe(channel);
    },
    async unsubscribe(channel) {
      await command.unsubscribe(channel);
      listeners.delete(channel);
    },
    close: () => closeIoredis(connection),
    get ready() {
      return connection.status === 'ready';
    },
  };
}

/** Classic pub/sub on one server: PUBLISH and SUBSCRIBE (ioredis resubscribes after a reconnect). */
export function linkIoredis(client: IoredisClient): RedisLink {
  return {
    kind: 'ioredis',
    sharded: false,
    get ready() {
      return client.status === 'ready';
    },
    command: (_key, args) => client.call(args[0], ...args.slice(1)),
    publish: async (channel, message) => count(await client.call('PUBLISH', channel, message)),
    async openSubscriber(fault) {
      const subscriber = client.duplicate();
      subscriber.on('error', fault);
      await whenReady(subscriber);
      return dispatching(
        subscriber,
        {
          subscribe: (channel) => subscriber.subscribe(channel),
          unsubscribe: (channel) => subscriber.unsubscribe(channel),
        },
        (deliver) => subscriber.on('message', deliver),
      );
    },
  };
}
