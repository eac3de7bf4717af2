/**
 * `npm start`: the sockjs-express demo. PORT (default 8080) and HOST choose where it
 * listens; `--cross-origin` (or CROSS_ORIGIN=1) serves the SockJS services from PORT + 1.
 *
 * For several processes behind a balancer (`npm run cluster-demo` sets these): REDIS_URL
 * makes the chat room span every process on that Redis; DEMO_INSTANCE names the process;
 * DEMO_FORWARD=1 forwards requests of sessions held by other processes through Redis;
 * REDIS_SECRET signs what the processes send each other (the broker's `secret`);
 * REDIS_CLUSTER=1 says REDIS_URL is a Redis Cluster (some of its nodes' URLs, separated by
 * commas); REDIS_CLIENT=ioredis uses ioredis instead of node-redis;
 * DEMO_JSESSIONID=1 sets the JSESSIONID cookie; DEMO_HEARTBEAT_DELAY and
 * DEMO_DISCONNECT_DELAY (ms) set those service options.
 */
import { DEFAULT_PORT, startDemo } from './demo';
import { REDIS_LIBRARIES, type RedisLibrary } from './cluster/redis';

const YES = ['1', 'true', 'yes'];

function flag(name: string): boolean {
  return YES.includes(process.env[name] ?? '');
}

function text(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
}

function milliseconds(name: string): number | undefined {
  const value = text(name);
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) {
    console.error(`demo: ${name} must be a positive number of milliseconds, got ${JSON.stringify(value)}`);
    process.exit(1);
  }
  return number;
}

function library(): RedisLibrary | undefined {
  const value = text('REDIS_CLIENT');
  if (value === undefined || (REDIS_LIBRARIES as readonly string[]).includes(value)) {
    return value as RedisLibrary | undefined;
  }
  console.error(
    `demo: REDIS_CLIENT must be one of ${REDIS_LIBRARIES.join(', ')}, got ${JSON.stringify(value)}`,
  );
  process.exit(1);
}

const port = text('PORT') === undefined ? DEFAULT_PORT : Number(process.env.PORT);
const crossOrigin = process.argv.includes('--cross-origin') || flag('CROSS_ORIGIN');

if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`demo: PORT must be a port number, got ${JSON.stringify(process.env.PORT)}`);
  process.exit(1);
}

startDemo({
  port,
  crossOrigin,
  host: text('HOST'),
  instance: text('DEMO_INSTANCE'),
  redisUrl: text('REDIS_URL'),
  redisSecret: text('REDIS_SECRET'),
  redisCluster: flag('REDIS_CLUSTER'),
  redisClient: library(),
  forward: flag('DEMO_FORWARD'),
  jsessionid: flag('DEMO_JSESSIONID'),
  heartbeatDelay: milliseconds('DEMO_HEARTBEAT_DELAY'),
  disconnectDelay: milliseconds('DEMO_DISCONNECT_DELAY'),
}).then(
  (demo) => {
    const name = demo.instance === null ? '' : ` (instance ${demo.instance})`;
    console.log(`sockjs-express demo on ${demo.url}${name}`);
    if (demo.crossOrigin) {
      console.log(
        `SockJS services on ${demo.servicesUrl} (cross-origin mode), for pages from ${demo.url} only`,
      );
    } else {
      console.log('SockJS services for pages of this origin only (--cross-origin shows two origins)');
    }
    if (demo.sharedThroughRedis) console.log(`chat room shared through Redis at ${process.env.REDIS_URL}`);
    const shutdown = (): void => {
      demo.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  },
  (error: unknown) => {
    console.error(`demo: cannot start: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
