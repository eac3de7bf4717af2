/**
 * For the specs that treat Redis as hostile: "processes" that each have their own Redis
 * connections, broker and echo service (forwarded, tracked and in the group `room`), a
 * websocket client, and a relayed xhr session read and written through another process.
 */
import { request as httpRequest, type ClientRequest } from 'node:http';
import express from 'express';
import { createClient } from 'redis';
import { attachUpgrade, sockjsMiddleware, type Connection } from '../../lib';
import { createBroker, type Broker, type BrokerOptions } from '../../lib/redis';
import type { LogSeverity, SockjsOptions } from '../../lib/options';
import { POST } from './http';
import { listen, until, type TestServer } from './server';
import { ClientHarness } from './sockjs-client';

function newClient(url: string, offlineQueue = true) {
  return createClient({ url, disableOfflineQueue: !offlineQueue });
}

export type RedisConnection = ReturnType<typeof newClient>;

/** How a spec's Redis client is made. */
export interface ClientSettings {
  /** node-redis's offline queue (its default: on). */
  offlineQueue?: boolean;
  /** Errors are not printed (a spec that stops Redis expects them). */
  quiet?: boolean;
}

/** A Redis client for a spec; errors are printed, as node-redis reconnects by itself. */
export async function connectRedis(
  url: string,
  { offlineQueue = true, quiet = false }: ClientSettings = {},
): Promise<RedisConnection> {
  const client = newClient(url, offlineQueue);
  client.on('error', (error: Error) => {
    if (!quiet) console.error(`redis client: ${error.message}`);
  });
  await client.connect();
  return client;
}

/** The message the echo services fail on, as an application's handler can. */
export const FAILING_MESSAGE = 'the application throws on this one';

/** The group every connection of a side joins. */
export const ROOM = 'room';

/** One process's worth: a Redis client, a broker, an echo service at `/echo`. */
export interface Side {
  readonly redis: RedisConnection;
  readonly broker: Broker;
  readonly server: TestServer;
  /** `http://127.0.0.1:PORT/echo` */
  readonly echoUrl: string;
  readonly connections: Connection[];
  /** Every line the broker logged. */
  readonly logged: { severity: LogSeverity; message: string }[];
  /** Connections that closed, by the time they closed. */
  readonly closed: Connection[];
}

/** How a side is made, beyond its broker's options. */
export interface SideSettings extends ClientSettings {
  /** Its service forwards (the default) or is only tracked (sticky balancing). */
  forward?: boolean;
  /** More options of its service. */
  service?: SockjsOptions;
}

export async function startSide(
  redisUrl: string,
  options: Omit<BrokerOptions, 'redis' | 'log'>,
  { forward = true, service: serviceOptions = {}, ...client }: SideSettings = {},
): Promise<Side> {
  const redis = await connectRedis(redisUrl, client);
  const logged: Side['logged'] = [];
  const broker = await createBroker({
    ...options,
    redis,
    log: (severity, message) => logged.push({ severity, message }),
  });
  // A long response limit: the relayed stream stays one response for the whole spec.
  const service = sockjsMiddleware({
    responseLimit: 64 * 1024 * 1024,
    log: () => undefined,
    ...serviceOptions,
  });
  const connections: Connection[] = [];
  const closed: Connection[] = [];
  service.on('connection', (conn) => {
    connections.push(conn);
    conn.on('data', (message: string) => {
      if (message === FAILING_MESSAGE) throw new Error('the application failed');
      conn.write(message);
    });
    conn.on('close', () => closed.push(conn));
    void broker.join(conn, ROOM);
  });
  broker.attach(service);
  if (forward) broker.forward(service);
  const app = express();
  app.use('/echo', service);
  const server = await listen(app);
  attachUpgrade(server.server);
  return { redis, broker, server, echoUrl: `${server.url}/echo`, connections, logged, closed };
}

export async function stopSide(side: Side | undefined): Promise<void> {
  if (side === undefined) return;
  await side.broker.close();
  await side.server.close();
  if (side.redis.isOpen) await side.redis.close();
}

/** A websocket client of `side`, open. */
export async function websocketClient(side: Side): Promise<ClientHarness> {
  const client = new ClientHarness(side.echoUrl, { transports: 'websocket' });
  await client.open();
  return client;
}

/**
 * An xhr session held by `owner`, whose stream and sends go through `via`: every message
 * crosses Redis twice (a forwarded send, a relayed frame).
 */
export class RelayedSession {
  /** Every message the stream brought, in order. */
  readonly received: string[] = [];
  /** Close frames the stream brought. */
  readonly closes: string[] = [];
  ended = false;
  private request: ClientRequest | null = null;
  private sent = 0;

  private constructor(
    readonly id: string,
    private readonly via: Side,
  ) {}

  /** Opens the session at `owner`, and its stream at `via`. */
  static async open(owner: Side, via: Side, id: string): Promise<RelayedSession> {
    const opened = await POST(`${owner.echoUrl}/000/${id}/xhr`);
    if (opened.body !== 'o\n') throw new Error(`the session did not open: ${opened.body}`);
    const session = new RelayedSession(id, via);
    await session.startStream();
    return session;
  }

  /** The owner record key of the session, under the brokers' `channel`. */
  key(channel: string): string {
    return `${channel}:session:/echo/${this.id}`;
  }

  private startStream(): Promise<void> {
    return new Promise((resolve, reject) => {
      const request = httpRequest(`${this.via.echoUrl}/001/${this.id}/xhr_streaming`, { method: 'POST' });
      this.request = request;
      request.on('error', (error) => {
        this.ended = true;
        reject(error);
      });
      request.on('response', (response) => {
        let buffered = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          buffered += chunk;
          const lines = buffered.split('\n');
          buffered = lines.pop() ?? '';
          for (const line of lines) this.frame(line, resolve);
        });
        response.on('end', () => (this.ended = true));
        response.on('error', () => (this.ended = true));
      });
      request.end();
    });
  }

  private frame(line: string, started: () => void): void {
    if (line.startsWith('h'))
      started(); // the prelude, and heartbeats
    else if (line.startsWith('a')) this.received.push(...(JSON.parse(line.slice(1)) as string[]));
    else if (line.startsWith('c')) this.closes.push(line);
  }

  /** Sends one message through `via`; resolves with the status (204: the owner took it). */
  async send(message: string): Promise<number> {
    this.sent++;
    const response = await POST(
      `${this.via.echoUrl}/${String(this.sent).padStart(3, '0')}/${this.id}/xhr_send`,
      {
        body: JSON.stringify([message]),
      },
    );
    return response.status;
  }

  close(): void {
    this.request?.destroy();
    this.ended = true;
  }
}

/** Waits until `received` holds `count` messages, or `timeout` passes. */
export function receivedAtLeast(
  received: readonly unknown[],
  count: number,
  timeout = 10_000,
): Promise<void> {
  return until(() => received.length >= count, timeout, `${count} messages`);
}
