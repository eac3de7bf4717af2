import { defaultLogFunction, type LogFunction } from '../options';
import type { Connection } from '../session/connection';
import { Audience } from '../broker/audience';
import type { Broker as SharedBroker, ConnectionSource } from '../broker/broker';
import { fanOut } from '../broker/fan-out';
import type { BrokerOptions as SharedBrokerOptions } from '../broker/in-process';
import { SERVICE, type SockjsRouter } from '../middleware';
import type { SockjsService } from '../service';
import { notConnected, type RedisLink, type SubscriberLink } from './client';
import { linkTo, type RedisClient } from './clients';
import { channelNames, type ChannelNames } from './channels';
import { Subscriptions } from './subscriptions';
import { Forwarder, type ForwardHost } from './forward/forwarder';
import { DropLog, type DroppedMessages } from './drops';
import { PLAIN_ENVELOPES, SignedEnvelopes, type Envelopes } from './envelope';
import { newNodeId } from '../broker/node-id';
import { MIN_SECRET_BYTES, Signer } from './signing';
import type { SessionRelay } from '../session/lookup';

/** Options of `createBroker()`: those of the main entry's `createBroker()`, and Redis's. */
export interface BrokerOptions extends SharedBrokerOptions {
  /**
   * A connected Redis client: node-redis (`createClient()`, or `createCluster()` for a
   * Redis Cluster; `redis` package 4.6 or later) or ioredis (`new Redis()`, or
   * `new Cluster()`). The broker publishes and keeps its keys with it, and opens its own
   * subscriber connection with `redis.duplicate()`. It never closes this client. On a
   * cluster, pub/sub is sharded (SPUBLISH and SSUBSCRIBE: Redis 7 or later, or Valkey).
   */
  redis: RedisClient;
  /**
   * Prefix of every Redis channel and key the broker uses. Brokers with the same prefix,
   * in any process, reach each other's connections.
   * @default 'sockjs'
   */
  channel?: string;
  /**
   * Forwarding: milliseconds the Redis record naming a session's process lives without
   * being renewed (it is renewed while the session lives, and deleted when it ends).
   * @default 30000
   */
  ownerTtl?: number;
  /**
   * Forwarding: milliseconds a forwarded send request waits for the session's process to
   * take its messages before it gets 404.
   * @default 5000
   */
  forwardTimeout?: number;
  /**
   * A secret every broker on the channel shares (at least 16 bytes; 32 random bytes are
   * best). Every message is then signed with HMAC-SHA256, and messages read from Redis
   * that are unsigned, badly signed, replayed or older than a minute are dropped, as are
   * owner records not signed for their key. Without it, anything that can publish on the
   * channel's Redis is taken as a broker (docs/scale-out.md, "Security").
   */
  secret?: string | Uint8Array;
}

export type { ConnectionSource };

/**
 * Messages to connections on every process, over Redis pub/sub: the main entry's `Broker`,
 * and session forwarding.
 */
export interface Broker extends SharedBroker {
  /** This process's id among the brokers (also its Redis channel's suffix). */
  readonly id: string;
  /**
   * Whether both Redis connections of the broker are up: the client it publishes with, and
   * its subscriber connection with every subscription in place. While the client is down,
   * `publish()` and `publishTo()` reject at once (error code `ERR_SOCKJS_REDIS_OFFLINE`);
   * while the subscriber is, messages from any process miss this process's connections.
   * False once the broker is closed.
   */
  readonly ready: boolean;
  /**
   * Serves the requests of `service` whose session another process holds, by forwarding
   * them through Redis, so that a balancer without sticky sessions (round robin) works.
   * Every process must forward the same services. For services made with
   * `sockjsMiddleware()`.
   */
  forward(service: SockjsRouter): void;
  /**
   * Sends `message` to every tracked connection of every process. Resolves with the
   * number of processes Redis delivered it to, once Redis has it.
   */
  publish(message: string): Promise<number>;
  /** Sends `message` to the members of `group` on every process; resolves like `publish()`. */
  publishTo(group: string, message: string): Promise<number>;
  /**
   * Adds a connection to a group. Resolves once messages published to the group from now
   * on reach it.
   */
  join(connection: Connection, group: string): Promise<void>;
  /** How many messages read from Redis were dropped since the broker started, by reason. */
  dropped(): DroppedMessages;
  /**
   * Stops: forwarded requests are handed back, subscriptions end and the broker's own Redis
   * connection closes. Close the services first, the Redis client after.
   */
  close(): Promise<void>;
}

const DEFAULT_CHANNEL = 'sockjs';

function positive(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TypeError(
      `sockjs-express/redis: option ${name} must be a positive integer, got ${String(value)}`,
    );
  }
  return value;
}

/**
 * Connects a broker: it subscribes to its channels before it resolves, so whatever is
 * published afterwards, from any process, reaches the connections it tracks.
 */
export async function createBroker(options: BrokerOptions): Promise<Broker> {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('sockjs-express/redis: options must be an object with a redis client');
  }
  const link = linkTo(options.redis);
  const channel = options.channel ?? DEFAULT_CHANNEL;
  if (typeof channel !== 'string' || channel === '') {
    throw new TypeError('sockjs-express/redis: option channel must be a non-empty string');
  }
  const log = options.log ?? defaultLogFunction;
  if (typeof log !== 'function') throw new TypeError('sockjs-express/redis: option log must be a function');
  const settings: Settings = {
    redis: link,
    names: channelNames(channel, link.sharded),
    log,
    signer: signerOf(options.secret),
    ownerTtl: positive('ownerTtl', options.ownerTtl, 30_000),
    forwardTimeout: positive('forwardTimeout', options.forwardTimeout, 5_000),
  };
  const subscriber = await link.openSubscriber((error) => {
    log('error', `sockjs-express/redis: subscriber connection: ${error.message}`);
  });
  const broker = new RedisBroker(settings, subscriber);
  try {
    await broker.start();
  } catch (error) {
    await broker.close();
    throw error;
  }
  return broker;
}

function signerOf(secret: unknown): Signer | null {
  if (secret === undefined) return null;
  const bytes =
    typeof secret === 'string'
      ? Buffer.byteLength(secret)
      : secret instanceof Uint8Array
        ? secret.length
        : -1;
  if (bytes < MIN_SECRET_BYTES) {
    throw new TypeError(
      `sockjs-express/redis: option secret must be a string or Uint8Array of at least ${MIN_SECRET_BYTES} bytes`,
    );
  }
  return new Signer(secret as string | Uint8Array);
}

interface Settings {
  readonly redis: RedisLink;
  readonly names: ChannelNames;
  readonly log: LogFunction;
  readonly signer: Signer | null;
  readonly ownerTtl: number;
  readonly forwardTimeout: number;
}

class RedisBroker implements Broker, ForwardHost {
  readonly id = newNodeId();
  readonly ownerTtl: number;
  readonly forwardTimeout: number;
  readonly log: LogFunction;
  readonly signer: Signer | null;
  readonly drops: DropLog;
  private readonly envelopes: Envelopes;
  private readonly redis: RedisLink;
  private readonly names: ChannelNames;
  private readonly ownChannel: string;
  private readonly subscriptions: Subscriptions;
  /** The connections of this process that publish() and group messages reach. */
  private readonly audience: Audience;
  private readonly sources = new WeakSet<ConnectionSource>();
  private forwarder: Forwarder | null = null;
  /** Services whose foreign sessions this broker serves, with the relay each uses. */
  private readonly forwarding = new Map<SockjsService, SessionRelay>();
  private closing: Promise<void> | null = null;

  constructor(
    settings: Settings,
    private readonly subscriber: SubscriberLink,
  ) {
    this.redis = settings.redis;
    this.ownerTtl = settings.ownerTtl;
    this.forwardTimeout = settings.forwardTimeout;
    this.log = settings.log;
    this.signer = settings.signer;
    this.drops = new DropLog(settings.log);
    this.envelopes = this.signer === null ? PLAIN_ENVELOPES : new SignedEnvelopes(this.signer, this.id);
    this.names = settings.names;
    this.ownChannel = this.nodeChannel(this.id);
    this.audience = new Audience((group) => {
      // Its last member closed: this process no longer needs the group's messages.
      if (this.closing !== null) return;
      this.subscriptions.unsubscribe(this.names.group(group)).catch((error: unknown) => {
        this.log('error', `sockjs-express/redis: unsubscribing from ${group}: ${describe(error)}`);
      });
    });
    this.subscriptions = new Subscriptions(
      subscriber,
      (message, channel) => this.received(message, channel),
      (error) => this.drops.drop('faulted', describe(error)),
      (channel, error) => {
        this.log(
          'debug',
          `sockjs-express/redis: subscription to ${channel} failed again: ${describe(error)}`,
        );
      },
    );
  }

  async start(): Promise<void> {
    await Promise.all([
      this.subscriptions.subscribe(this.names.all),
      this.subscriptions.subscribe(this.ownChannel),
    ]);
  }

  nodeChannel(node: string): string {
    return this.names.node(node);
  }

  /** The key naming a session's process; the session id is last and has no `/`. */
  sessionKey(prefix: string, sessionId: string): string {
    return this.names.sessionKey(prefix, sessionId);
  }

  async publish(message: string): Promise<number> {
    return this.publishOn(this.names.all, checkMessage(message));
  }

  async publishTo(group: string, message: string): Promise<number> {
    return this.publishOn(this.names.group(checkGroup(group)), checkMessage(message));
  }

  get ready(): boolean {
    return this.closing === null && this.redis.ready && this.subscriber.ready && this.subscriptions.settled;
  }

  /**
   * Runs a command, or rejects at once while the client is not connected: the client would
   * queue it until Redis is back, and a message published then would arrive late, after
   * newer ones, or never settle when Redis stays away (docs/scale-out.md, "When Redis
   * restarts").
   */
  command(key: string, args: readonly string[]): Promise<unknown> {
    if (!this.redis.ready) return Promise.reject(notConnected());
    return this.redis.command(key, args);
  }

  send(channel: string, message: string): Promise<number> {
    if (!this.redis.ready) return Promise.reject(notConnected());
    return this.redis.publish(channel, this.envelopes.seal(channel, message));
  }

  private async publishOn(channel: string, message: string): Promise<number> {
    if (this.closing !== null) throw new Error('sockjs-express/redis: the broker is closed');
    return this.send(channel, message);
  }

  attach(source: ConnectionSource): void {
    if (source === null || typeof (source as Partial<ConnectionSource>).on !== 'function') {
      throw new TypeError(
        'sockjs-express/redis: attach() takes a service (sockjsMiddleware() or createServer())',
      );
    }
    if (this.closing !== null) throw new Error('sockjs-express/redis: the broker is closed');
    if (this.sources.has(source)) return;
    this.sources.add(source);
    source.on('connection', (connection) => {
      if (this.closing === null) this.audience.track(connection);
    });
  }

  forward(router: SockjsRouter): void {
    const service = router === null || typeof router !== 'function' ? undefined : router[SERVICE];
    if (service === undefined) {
      throw new TypeError('sockjs-express/redis: forward() takes a service made by sockjsMiddleware()');
    }
    if (this.closing !== null) throw new Error('sockjs-express/redis: the broker is closed');
    const current = service.sessions.relay;
    if (current !== null && current !== this.forwarding.get(service)) {
      throw new Error('sockjs-express/redis: this service already forwards through another broker');
    }
    if (current !== null) return;
    this.forwarder ??= new Forwarder(this);
    const relay = this.forwarder.relayFor(service.options.heartbeatDelay);
    service.sessions.useRelay(relay);
    this.forwarding.set(service, relay);
  }

  async join(connection: Connection, group: string): Promise<void> {
    checkGroup(group);
    if (this.closing !== null) throw new Error('sockjs-express/redis: the broker is closed');
    if (!this.audience.join(connection, group)) return;
    await this.subscriptions.subscribe(this.names.group(group));
  }

  async leave(connection: Connection, group: string): Promise<void> {
    checkGroup(group);
    if (!this.audience.leave(connection, group) || this.closing !== null) return;
    await this.subscriptions.unsubscribe(this.names.group(group));
  }

  groupsOf(connection: Connection): readonly string[] {
    return this.audience.groupsOf(connection);
  }

  dropped(): DroppedMessages {
    return this.drops.snapshot();
  }

  /**
   * A message on one of the subscribed channels, as the client hands it over: checked
   * (and with a secret, its signature) before anything uses it.
   */
  private received(raw: unknown, channel: unknown): void {
    if (typeof raw !== 'string' || typeof channel !== 'string') {
      this.drops.drop('malformed', 'a message that is no text');
      return;
    }
    const opened = this.envelopes.open(channel, raw);
    if (typeof opened === 'string') {
      this.drops.drop(opened);
      return;
    }
    const message = opened.payload;
    if (channel === this.names.all) {
      fanOut(this.audience.everyone, message);
    } else if (channel === this.ownChannel) {
      this.forwarder?.handle(message, opened.sender);
    } else {
      const group = this.names.groupOf(channel);
      const members = group === null ? undefined : this.audience.membersOf(group);
      if (members !== undefined) fanOut(members, message);
    }
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    if (this.forwarder !== null) {
      for (const [service, relay] of this.forwarding) {
        if (service.sessions.relay === relay) service.sessions.useRelay(null);
      }
      this.forwarding.clear();
      await this.forwarder.close();
    }
    this.audience.clear();
    this.subscriptions.close();
    try {
      await this.subscriber.close();
    } catch (error) {
      this.log('debug', `sockjs-express/redis: closing the subscriber connection: ${describe(error)}`);
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function checkMessage(message: unknown): string {
  if (typeof message !== 'string') throw new TypeError('sockjs-express/redis: a message must be a string');
  return message;
}

function checkGroup(group: unknown): string {
  if (typeof group !== 'string' || group === '') {
    throw new TypeError('sockjs-express/redis: a group name must be a non-empty string');
  }
  return group;
}
