/**
 * Application code a TypeScript user could write against the published package: the main
 * entry, the sockjs-node API and `sockjs-express/redis`, with `@ts-expect-error` where the
 * types must refuse a mistake. spec/package-types.test.ts type-checks it in consumer
 * projects of every module setting; it never runs.
 */
export const CONSUMER_CODE = `
import { createServer as createHttpServer } from 'node:http';
import express from 'express';
import { Cluster, Redis } from 'ioredis';
import { createClient, createCluster } from 'redis';
import {
  attachUpgrade,
  createServer,
  sockjs,
  sockjsMiddleware,
  Connection,
  ReadyState,
  TRANSPORT_NAMES,
  type ConnectionEvents,
  type ServiceStats,
  type SockjsOptions,
  type SockjsRouter,
  type TransportName,
  type WebsocketOptions,
} from 'sockjs-express';
import { createBroker, type Broker, type DroppedMessages } from 'sockjs-express/redis';

const websocketOptions: WebsocketOptions = {
  maxPayload: 64 * 1024,
  perMessageDeflate: { threshold: 1024, zlibDeflateOptions: { level: 6 } },
};
export const notASetting: WebsocketOptions = {
  // @ts-expect-error perMessageDeflate is a boolean or ws's settings object
  perMessageDeflate: 'yes',
};
export const notAnOption: SockjsOptions = {
  // @ts-expect-error heartbeatDelay is a number of milliseconds
  heartbeatDelay: '25s',
};
// @ts-expect-error websocketOptions takes ws's settings, not any object
sockjsMiddleware({ websocketOptions: { maxPayload: '1mb' } });

const transports: TransportName[] = TRANSPORT_NAMES.filter((name) => name !== 'htmlfile');
const options: SockjsOptions = {
  origins: ['https://www.example.com', 'same-origin'],
  transports,
  websocketOptions,
  log: (severity, message) => {
    if (severity === 'error') process.stderr.write(message + '\\n');
  },
};

const members = new Set<Connection>();
const chat: SockjsRouter = sockjsMiddleware(options);
chat.on('connection', (conn: Connection) => {
  members.add(conn);
  const id: string = conn.id;
  const open: boolean = conn.readyState === ReadyState.OPEN;
  conn.on('data', (message: string) => {
    for (const member of members) {
      const sent: boolean = member.write(id + ': ' + message);
      if (!sent) member.once('drain', () => undefined);
    }
  });
  conn.on('close', () => members.delete(conn));
  // The events are typed: a message is a string, a misspelt event does not compile.
  conn.on('message', (message) => {
    const text: string = message;
    return text;
  });
  // @ts-expect-error there is no 'dta' event
  conn.on('dta', () => undefined);
  // @ts-expect-error close passes no code
  conn.on('close', (code: number) => code);
  const locals: Record<string, unknown> = conn.locals;
  if (!open || locals.user === undefined) conn.close(4000, 'not open');
});
const firstData: ConnectionEvents['data'] = ['hello'];

const app = express();
app.use('/chat', chat);
app.use('/echo', sockjs());
const server = app.listen(0);
attachUpgrade(server);
export const stats: ServiceStats = chat.stats();

const compat = createServer({ sockjs_url: 'https://cdn.jsdelivr.net/npm/sockjs-client@1/dist/sockjs.min.js' });
compat.on('connection', (conn: Connection) => conn.on('data', (message: string) => conn.write(message)));
compat.installHandlers(createHttpServer(), { prefix: '/echo' });

export async function scaleOut(): Promise<Broker> {
  const redis = createClient({ url: process.env.REDIS_URL });
  await redis.connect();
  const broker = await createBroker({ redis, channel: 'chat' });
  broker.attach(chat);
  const reached: number = await broker.publish(firstData[0]);
  const dropped: DroppedMessages = broker.dropped();
  void reached;
  void dropped;
  await chat.close();
  return broker;
}

/** The same broker on a Redis Cluster (node-redis, ioredis) and with ioredis on one server. */
export async function otherClients(): Promise<Broker[]> {
  const cluster = createCluster({ rootNodes: [{ url: 'redis://127.0.0.1:7000' }] });
  await cluster.connect();
  const ioredis = new Redis('redis://127.0.0.1:6379');
  const ioredisCluster = new Cluster([{ host: '127.0.0.1', port: 7000 }], { enableReadyCheck: true });
  return Promise.all([
    createBroker({ redis: cluster, channel: 'chat' }),
    createBroker({ redis: ioredis }),
    createBroker({ redis: ioredisCluster }),
  ]);
}
// @ts-expect-error the broker takes a connected client, not a URL
export const notAClient = createBroker({ redis: 'redis://127.0.0.1:6379' });
`;
