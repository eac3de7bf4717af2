/**
 * The Redis clients the broker takes, told apart by what they have (never by loading their
 * library), each adapted to the broker's one interface (../client.ts).
 */
import type { RedisLink } from '../client';
import { linkIoredis, type IoredisClient } from './ioredis';
import { linkIoredisCluster, type IoredisCluster } from './ioredis-cluster';
import { linkNodeRedis, type NodeRedisClient } from './node-redis';
import { linkNodeRedisCluster, type NodeRedisCluster } from './node-redis-cluster';

export type { IoredisClient, IoredisSubscriber } from './ioredis';
export type { IoredisCluster, IoredisClusterSubscriber } from './ioredis-cluster';
export type { NodeRedisClient, RedisSubscriber } from './node-redis';
export type { NodeRedisCluster, NodeRedisClusterSubscriber } from './node-redis-cluster';

/**
 * A connected Redis client: node-redis (`createClient()` or `createCluster()` of the
 * `redis` package, 4.6 or later) or ioredis (`new Redis()` or `new Cluster()`).
 */
export type RedisClient = NodeRedisClient | NodeRedisCluster | IoredisClient | IoredisCluster;

function has(value: object, name: string): boolean {
  return typeof (value as Record<string, unknown>)[name] === 'function';
}

/**
 * The link to the Redis of `value`, told by its methods: ioredis has `call()` and a
 * `status` (a Cluster also `nodes()` and `isCluster`), node-redis has `sendCommand()` (a
 * cluster client also `getSlotRandomNode()`). ioredis is looked at first: it has an
 * internal `sendCommand()` too.
 */
export function linkTo(value: unknown): RedisLink {
  if (value !== null && typeof value === 'object' && has(value, 'duplicate')) {
    const client = value as Record<string, unknown>;
    if (has(value, 'call') && typeof client.status === 'string') {
      if (client.isCluster === true && has(value, 'nodes'))
        return linkIoredisCluster(value as IoredisCluster);
      return linkIoredis(value as IoredisClient);
    }
    if (has(value, 'sendCommand')) {
      if (has(value, 'getSlotRandomNode') && has(value, 'sSubscribe')) {
        return linkNodeRedisCluster(value as NodeRedisCluster);
      }
      return linkNodeRedis(value as NodeRedisClient);
    }
  }
  throw new TypeError(
    'sockjs-express/redis: option redis must be a connected Redis client: createClient() or createCluster() ' +
      'from the "redis" package, or new Redis() or new Cluster() from "ioredis"',
  );
}
