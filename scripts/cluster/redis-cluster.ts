/**
 * A three-master Redis Cluster on loopback for the cluster demo and the specs: three
 * `redis-server --cluster-enabled yes`, joined by `redis-cli --cluster create`, with
 * nothing saved but their cluster configuration in a scratch directory.
 */
import { createServer } from 'node:net';
import { Child, freePort, startRedis, type RedisProcess, type ScratchDir } from './processes';

/** The cluster bus of a node listens on its port plus this (Redis's default offset). */
const BUS_OFFSET = 10_000;
/** How long the three nodes may take to agree that the cluster is up. */
const CLUSTER_OK_TIMEOUT_MS = 15_000;

/** A running three-master cluster. */
export interface RedisClusterProcess {
  readonly nodes: readonly RedisProcess[];
  /** `127.0.0.1` and the port of each master. */
  readonly addresses: readonly { host: string; port: number }[];
  /** Stops every node. */
  stop(): Promise<void>;
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** `count` free ports whose cluster bus ports (port + 10000) are free too. */
async function clusterPorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let tries = 0; ports.length < count && tries < 200; tries++) {
    const port = await freePort();
    if (port + BUS_OFFSET > 65_535 || ports.includes(port) || ports.includes(port + BUS_OFFSET)) continue;
    if (await canListen(port + BUS_OFFSET)) ports.push(port);
  }
  if (ports.length < count) throw new Error('no free ports for a Redis Cluster (port and port + 10000)');
  return ports;
}

/** Runs redis-cli to the end; resolves with its output, rejects when it fails. */
async function redisCli(cli: string, args: readonly string[]): Promise<string> {
  const child = new Child('redis-cli', cli, args);
  const code = await child.exited;
  if (code !== 0) throw new Error(`redis-cli ${args.join(' ')} exited with ${code}:\n${child.log}`);
  return child.log;
}

async function clusterOk(cli: string, port: number): Promise<boolean> {
  const info = await redisCli(cli, ['-h', '127.0.0.1', '-p', String(port), 'CLUSTER', 'INFO']);
  return /^cluster_state:ok\r?$/m.test(info);
}

/** Starts three masters, creates the cluster and waits until each node says it is ok. */
export async function startRedisCluster(
  server: string,
  cli: string,
  dir: ScratchDir,
  echo = false,
): Promise<RedisClusterProcess> {
  const nodes: RedisProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.child.stop()));
  };
  try {
    for (const port of await clusterPorts(3)) {
      const config = `${dir.path}/nodes-${port}.conf`;
      nodes.push(
        await startRedis(server, dir, echo, port, [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          config,
        ]),
      );
    }
    const addresses = nodes.map((node) => ({ host: '127.0.0.1', port: node.port }));
    await redisCli(cli, [
      '--cluster',
      'create',
      ...addresses.map(({ host, port }) => `${host}:${port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    const deadline = Date.now() + CLUSTER_OK_TIMEOUT_MS;
    for (const node of nodes) {
      while (!(await clusterOk(cli, node.port))) {
        if (Date.now() > deadline) throw new Error(`the cluster is not ok on port ${node.port}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    return { nodes, addresses, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
