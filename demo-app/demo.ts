import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import express, { Router, type Express } from 'express';
import {
  attachUpgrade,
  createBroker,
  sockjsMiddleware,
  type Broker,
  type LogFunction,
  type ServiceStats,
  type SockjsOptions,
  type SockjsRouter,
} from '../lib/index';
import { createBroker as createRedisBroker, type Broker as RedisBroker } from '../lib/redis/index';
import { createChatRoom, LocalRoster, type ChatRoomSharing } from './chat';
import { connectRedis, RedisRoster, type DemoRedis, type RedisLibrary } from './cluster/redis';

/** The port `npm start` uses when PORT is not set. */
export const DEFAULT_PORT = 8080;

/** sockjs-client 1.x from the installed npm package: the demo needs no CDN. */
const CLIENT_SCRIPT = require.resolve('sockjs-client/dist/sockjs.min.js');
/** The page's own files (the compiled code runs from build/demo-app/). */
const PUBLIC_DIR = join(__dirname, '..', '..', 'demo-app', 'public');

export interface DemoOptions {
  /** Port of the page (and of the services unless crossOrigin). 0 picks a free one. @default 8080 */
  readonly port?: number;
  /** Interface to listen on. @default every interface (URLs then say `localhost`) */
  readonly host?: string;
  /** Serve the SockJS services from a second port, so the page talks to another origin. */
  readonly crossOrigin?: boolean;
  /** Port of the services in cross-origin mode. @default port + 1 (a free one when port is 0) */
  readonly servicesPort?: number;
  /** Passed to both services (tests shorten it). @default the library's 5000 ms */
  readonly disconnectDelay?: number;
  /** Passed to both services (tests shorten it). @default the library's 25000 ms */
  readonly heartbeatDelay?: number;
  /** Passed to both services. @default the library's (NODE_DEBUG=sockjs) */
  readonly log?: LogFunction;
  /**
   * Name of this process when several run side by side: chat members and `/stats` show it.
   * @default none
   */
  readonly instance?: string;
  /**
   * A Redis URL (`redis://host:port`): the chat room then spans every demo process using
   * the same Redis, through sockjs-express/redis. With `redisCluster`, the URLs of some
   * nodes of a Redis Cluster, separated by commas.
   * @default none (one room per process, through the main entry's broker)
   */
  readonly redisUrl?: string;
  /** With `redisUrl`: it is a Redis Cluster (sharded pub/sub). @default false */
  readonly redisCluster?: boolean;
  /** With `redisUrl`: the client library. @default 'node-redis' */
  readonly redisClient?: RedisLibrary;
  /**
   * With `redisUrl`: requests of sessions another process holds are forwarded to it, so a
   * balancer need not be sticky.
   * @default false
   */
  readonly forward?: boolean;
  /**
   * With `redisUrl`: the `secret` every demo process's broker shares, so that each takes
   * only the others' signed messages.
   * @default none (unsigned)
   */
  readonly redisSecret?: string;
  /** Set the JSESSIONID cookie on both services (cookie-sticky balancers). @default false */
  readonly jsessionid?: boolean;
}

/** What `GET /stats` answers: `stats()` of each service. */
export interface DemoStats {
  readonly chat: ServiceStats;
  readonly echo: ServiceStats;
  /** The process that answered (`instance` option), or null. */
  readonly instance: string | null;
}

/** A running demo. */
export interface Demo {
  /** The page, e.g. `http://localhost:8080/`. */
  readonly url: string;
  /** Origin of the SockJS services (`/chat`, `/echo`, `/stats`): the page's own unless crossOrigin. */
  readonly servicesUrl: string;
  readonly crossOrigin: boolean;
  /** The chat room service: every message is broadcast to every client. */
  readonly chat: SockjsRouter;
  /** The echo service: every message comes back to its sender. */
  readonly echo: SockjsRouter;
  /** The `instance` option, or null. */
  readonly instance: string | null;
  /** The broker carrying the chat room: through Redis with `redisUrl`, else in this process. */
  readonly broker: Broker;
  /** Whether the chat room spans every process on a Redis (`redisUrl`). */
  readonly sharedThroughRedis: boolean;
  /** Stops listening and cuts every open connection. */
  close(): Promise<void>;
}

/**
 * Starts the demo: a chat room at `/chat`, an echo service at `/echo`, live statistics at
 * `/stats`, and the page that uses them. With `crossOrigin`, the page is served from
 * `port` and everything SockJS from `servicesPort`, which is how most deployments look
 * (the page on `www.`, the realtime service elsewhere).
 */
export async function startDemo(options: DemoOptions = {}): Promise<Demo> {
  const port = options.port ?? DEFAULT_PORT;
  const crossOrigin = options.crossOrigin ?? false;
  const servers: Server[] = [];
  const instance = options.instance ?? null;
  let redis: DemoRedis | null = null;
  let redisBroker: RedisBroker | null = null;
  let redisRoster: RedisRoster | null = null;
  let broker: Broker | null = null;
  const services: SockjsRouter[] = [];
  const close = async (): Promise<void> => {
    // The services first: the room still publishes the leaves of their last connections.
    await Promise.all(services.map((service) => service.close()));
    await Promise.all(servers.map(stop));
    await broker?.close();
    await redisRoster?.close();
    await redis?.close();
  };

  try {
    // Redis first: once a server listens, nothing may await before its app is in place.
    let sharing: ChatRoomSharing;
    if (options.redisUrl === undefined) {
      broker = createBroker({ log: options.log });
      sharing = { broker, roster: new LocalRoster() };
    } else {
      redis = await connectRedis({
        urls: options.redisUrl.split(','),
        cluster: options.redisCluster ?? false,
        library: options.redisClient ?? 'node-redis',
      });
      broker = redisBroker = await createRedisBroker({
        redis: redis.client,
        channel: 'demo',
        log: options.log,
        secret: options.redisSecret,
      });
      redisRoster = new RedisRoster(redis, instance ?? broker.id);
      sharing = { broker, roster: redisRoster, instance: instance ?? broker.id };
    }

    const pageServer = await listen(servers, port, options.host);
    const servicesServer = crossOrigin
      ? await listen(servers, options.servicesPort ?? (port === 0 ? 0 : port + 1), options.host)
      : pageServer;
    const pageOrigin = originOf(pageServer, options.host);
    const servicesOrigin = originOf(servicesServer, options.host);

    // Nothing below awaits: the apps are in place before the first connection is read.
    const serviceOptions: SockjsOptions = {
      // The iframe transports load this from the services origin; cross-origin, the page's
      // relative URLs would mean the page's server, so it is absolute there.
      sockjsUrl: crossOrigin ? `${servicesOrigin}/sockjs.min.js` : '/sockjs.min.js',
      // The page's origin and, for the iframe transports, whose frame runs on the services'
      // origin, that one too; every other page is refused (403).
      origins: crossOrigin ? [pageOrigin, 'same-origin'] : 'same-origin',
      disconnectDelay: options.disconnectDelay,
      heartbeatDelay: options.heartbeatDelay,
      log: options.log,
      jsessionid: options.jsessionid,
    };
    const chat = createChatRoom(serviceOptions, sharing, instance);
    const echo = sockjsMiddleware(serviceOptions);
    services.push(chat, echo);
    echo.on('connection', (conn) => {
      conn.on('data', (message) => conn.write(message));
    });
    if (redisBroker !== null && options.forward === true) {
      redisBroker.forward(chat);
      redisBroker.forward(echo);
    }

    const servicesApp = express();
    servicesApp.use(clientScript());
    servicesApp.get('/stats', (_req, res) => {
      // Read-only numbers, fetched by the page from another origin in cross-origin mode.
      res.set({ 'Access-Control-Allow-Origin': '*', 'Cache-Control': 'no-store' });
      const stats: DemoStats = { chat: chat.stats(), echo: echo.stats(), instance };
      res.json(stats);
    });
    servicesApp.use('/chat', chat);
    servicesApp.use('/echo', echo);

    const pageApp = crossOrigin ? express() : servicesApp;
    if (crossOrigin) {
      pageApp.use(clientScript());
      servicesApp.get('/', (_req, res) => {
        res
          .type('text/plain')
          .send(`SockJS services of the sockjs-express demo. The page is at ${pageOrigin}/\n`);
      });
    }
    servePage(pageApp, crossOrigin ? servicesServer : null);

    pageServer.on('request', pageApp);
    attachUpgrade(servicesServer);
    if (crossOrigin) servicesServer.on('request', servicesApp);

    return {
      url: `${pageOrigin}/`,
      servicesUrl: servicesOrigin,
      crossOrigin,
      chat,
      echo,
      instance,
      broker,
      sharedThroughRedis: redisBroker !== null,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** `/sockjs.min.js` (and its source map) from the installed sockjs-client. */
function clientScript(): Router {
  const router = Router();
  router.get('/sockjs.min.js', (_req, res) => res.sendFile(CLIENT_SCRIPT));
  router.get('/sockjs.min.js.map', (_req, res) => res.sendFile(`${CLIENT_SCRIPT}.map`));
  return router;
}

/**
 * The page and `/config.js`, which tells it where the services are. The page builds the
 * services URL from its own hostname, so it also works when opened by another name.
 */
function servePage(app: Express, servicesServer: Server | null): void {
  const config = { servicesPort: servicesServer === null ? null : portOf(servicesServer) };
  app.get('/config.js', (_req, res) => {
    res.type('application/javascript').set('Cache-Control', 'no-store');
    res.send(`window.DEMO_CONFIG = ${JSON.stringify(config)};\n`);
  });
  app.use(express.static(PUBLIC_DIR));
}

function listen(servers: Server[], port: number, host: string | undefined): Promise<Server> {
  const server = createServer();
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      servers.push(server);
      resolve(server);
    });
  });
}

function stop(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

function portOf(server: Server): number {
  return (server.address() as AddressInfo).port;
}

/** `http://host:port` as a browser should write it. */
function originOf(server: Server, host: string | undefined): string {
  let name = host === undefined || host === '' || host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  if (name.includes(':')) name = `[${name}]`;
  return `http://${name}:${portOf(server)}`;
}
