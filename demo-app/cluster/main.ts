/**
 * `npm run cluster-demo`: several demo processes behind HAProxy, with the configuration of
 * docs/deployment.md, and their chat rooms joined through Redis.
 *
 *   --nodes N       how many demo processes (default 3)
 *   --round-robin   no sticky sessions: every process forwards through Redis
 *
 * PORT (default 8080) is where HAProxy listens; REDIS_URL uses that Redis instead of
 * starting a redis-server; REDIS_CLUSTER=1 starts a three-shard Redis Cluster instead (or,
 * with REDIS_URL, uses that cluster: some of its nodes' URLs, separated by commas);
 * REDIS_CLIENT=ioredis uses ioredis instead of node-redis; REDIS_SECRET (or a random one
 * for the run) signs what the processes send each other. Ctrl-C stops everything.
 */
import { randomBytes } from 'node:crypto';
import { DEFAULT_PORT } from '../demo';
import { documentedConfig, haproxyConfig } from '../../scripts/cluster/configs';
import {
  findBinary,
  freePort,
  ScratchDir,
  startDemoInstance,
  startHaproxy,
  startRedis,
  type BalancerProcess,
  type DemoInstance,
  type RedisProcess,
} from '../../scripts/cluster/processes';
import { startRedisCluster, type RedisClusterProcess } from '../../scripts/cluster/redis-cluster';

const YES = ['1', 'true', 'yes'];

interface Settings {
  readonly nodes: number;
  readonly roundRobin: boolean;
  readonly port: number;
}

function settings(argv: readonly string[]): Settings {
  let nodes = 3;
  let roundRobin = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--round-robin') roundRobin = true;
    else if (arg === '--nodes') nodes = Number(argv[++i]);
    else if (arg.startsWith('--nodes=')) nodes = Number(arg.slice('--nodes='.length));
    else fail(`unknown argument ${arg} (known: --nodes N, --round-robin)`);
  }
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 32) fail('--nodes takes a number from 1 to 32');
  const port =
    process.env.PORT === undefined || process.env.PORT === '' ? DEFAULT_PORT : Number(process.env.PORT);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    fail(`PORT must be a port number, got ${process.env.PORT}`);
  return { nodes, roundRobin, port };
}

function fail(message: string): never {
  console.error(`cluster-demo: ${message}`);
  process.exit(1);
}

async function main(): Promise<void> {
  const { nodes, roundRobin, port } = settings(process.argv.slice(2));
  const haproxy = findBinary('haproxy');
  if (haproxy === null) fail('needs HAProxy: apt-get install haproxy');

  const dir = new ScratchDir('sockjs-cluster-demo-');
  let redis: RedisProcess | null = null;
  let cluster: RedisClusterProcess | null = null;
  const redisCluster = YES.includes(process.env.REDIS_CLUSTER ?? '');
  const instances: DemoInstance[] = [];
  let balancer: BalancerProcess | null = null;
  let stopping = false;
  const stop = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    console.log('\ncluster-demo: stopping');
    await balancer?.child.stop();
    await Promise.all(instances.map((instance) => instance.child.stop()));
    await redis?.child.stop();
    await cluster?.stop();
    dir.remove();
    process.exit(code);
  };
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));

  try {
    let redisUrl = process.env.REDIS_URL === '' ? undefined : process.env.REDIS_URL;
    if (redisUrl === undefined) {
      const server = findBinary('redis-server');
      const cli = findBinary('redis-cli');
      if (redisCluster && (server === null || cli === null)) {
        fail('REDIS_CLUSTER=1 needs redis-server and redis-cli: apt-get install redis-server redis-tools');
      } else if (redisCluster && server !== null && cli !== null) {
        cluster = await startRedisCluster(server, cli, dir);
        redisUrl = cluster.nodes.map((node) => node.url).join(',');
        console.log(`cluster-demo: a three-shard Redis Cluster on ${redisUrl}`);
      } else if (server !== null) {
        redis = await startRedis(server, dir);
        redisUrl = redis.url;
        console.log(`cluster-demo: redis-server on ${redis.url} (pid ${redis.child.process.pid})`);
      } else if (roundRobin) {
        fail('--round-robin needs Redis: apt-get install redis-server, or set REDIS_URL');
      } else {
        console.log(
          'cluster-demo: no redis-server (apt-get install redis-server): one chat room per process',
        );
      }
    }

    // One secret for the processes of this run: each takes only the others' messages.
    const redisSecret = process.env.REDIS_SECRET || randomBytes(32).toString('base64');
    for (let i = 1; i <= nodes; i++) {
      const instance = await startDemoInstance({
        instance: `node${i}`,
        port: await freePort(),
        redisUrl,
        redisCluster,
        redisClient: process.env.REDIS_CLIENT || undefined,
        redisSecret,
        forward: roundRobin,
        echo: true,
      });
      instances.push(instance);
      instance.child.exited.then((code) => {
        if (!stopping)
          console.log(`cluster-demo: ${instance.name} (pid ${instance.child.process.pid}) exited: ${code}`);
      });
    }

    const block = documentedConfig(roundRobin ? 'haproxy-round-robin' : 'haproxy-sticky');
    const upstreams = instances.map((instance) => ({ name: instance.name, port: instance.port }));
    balancer = await startHaproxy(haproxy, haproxyConfig(block, { port, upstreams }), port, dir, true);

    console.log('');
    for (const instance of instances) {
      console.log(`cluster-demo: ${instance.name}: ${instance.url}/ (pid ${instance.child.process.pid})`);
    }
    console.log(
      `cluster-demo: HAProxy (${roundRobin ? 'round robin, forwarding through Redis' : 'sticky'}) ` +
        `with the configuration of docs/deployment.md, pid ${balancer.child.process.pid}`,
    );
    console.log(`\nOpen http://localhost:${port}/ in a few tabs. Ctrl-C stops everything.`);
  } catch (error) {
    console.error(`cluster-demo: ${error instanceof Error ? error.message : String(error)}`);
    await stop(1);
  }
}

void main();
