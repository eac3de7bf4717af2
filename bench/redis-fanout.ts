/**
 * Broker fan-out through one redis-server and through a three-shard Redis Cluster (sharded
 * pub/sub): three worker processes, each with its own broker and one tracked connection
 * that is in every group, receive what this process's broker publishes. Two measures, for
 * `publish()` (one channel: one shard) and `publishTo()` over many groups (spread over the
 * shards):
 *
 * - throughput: messages a second delivered across the three processes, with
 *   `--messages` publishes kept 500 in flight;
 * - added latency: from `publish()` to the tracked connection of each process, median and
 *   p99, with `--latency-messages` publishes paced at `--rate` a second.
 *
 *   npm run bench:redis-fanout -- [--messages 20000] [--latency-messages 2000] [--rate 1000]
 *                                 [--groups 30] [--client node-redis|ioredis] [--reps 1]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { parseArgs } from 'node:util';
import { connectRedis, type DemoRedis, type RedisLibrary } from '../demo-app/cluster/redis';
import { createBroker } from '../lib/redis';
import { ScratchDir, findBinary, startRedis } from '../scripts/cluster/processes';
import { startRedisCluster } from '../scripts/cluster/redis-cluster';
import { countingConnection } from './counting-connection';
import { epochNow } from './fan-out-message';
import { median } from './stats';

const { values } = parseArgs({
  options: {
    worker: { type: 'boolean', default: false },
    messages: { type: 'string', default: '20000' },
    'latency-messages': { type: 'string', default: '2000' },
    rate: { type: 'string', default: '1000' },
    groups: { type: 'string', default: '30' },
    client: { type: 'string', default: 'node-redis' },
    reps: { type: 'string', default: '1' },
  },
});
const WORKERS = 3;
/** Publishes awaited at a time: enough to keep Redis busy, few enough to bound memory. */
const IN_FLIGHT = 500;
const CHANNEL = 'fanout';
const PAYLOAD = 'p'.repeat(48);

/** Where the workers' Redis is (passed in the environment). */
interface Target {
  readonly urls: string[];
  readonly cluster: boolean;
  readonly library: RedisLibrary;
  readonly groups: number;
}

/** Parent to worker: count from zero until `expected` messages came, then report. */
interface Phase {
  readonly expected: number;
}

/** Worker to parent. */
type Report = { type: 'ready' } | { type: 'done'; at: number; latencies: number[] };

const groupName = (i: number): string => `g${i}`;

/** `<sent at>|<payload>`: the latency is taken from the time the message carries. */
function message(): string {
  return `${epochNow()}|${PAYLOAD}`;
}

async function worker(): Promise<void> {
  const target = JSON.parse(process.env.FANOUT_TARGET ?? '') as Target;
  const redis = await connectRedis(target);
  const broker = await createBroker({ redis: redis.client, channel: CHANNEL });
  let phase: Phase | null = null;
  let latencies: number[] = [];
  let received = 0;
  const counter = countingConnection((text) => {
    const now = epochNow();
    if (phase === null) return;
    latencies.push(now - Number(text.slice(0, text.indexOf('|'))));
    if (++received === phase.expected) {
      process.send?.({ type: 'done', at: now, latencies } satisfies Report);
      phase = null;
    }
  });
  broker.attach(counter.source);
  for (let i = 0; i < target.groups; i++) await broker.join(counter.connection, groupName(i));
  process.on('message', (next: Phase | 'stop') => {
    if (next === 'stop') {
      void broker
        .close()
        .then(() => redis.close())
        .then(() => process.exit(0));
      return;
    }
    [phase, latencies, received] = [next, [], 0];
  });
  process.send?.({ type: 'ready' } satisfies Report);
}

/** The three workers, started and subscribed. */
class Workers {
  private readonly children: ChildProcess[] = [];

  async start(target: Target): Promise<void> {
    const env = { ...process.env, FANOUT_TARGET: JSON.stringify(target) };
    for (let i = 0; i < WORKERS; i++) this.children.push(fork(__filename, ['--worker'], { env }));
    await Promise.all(this.children.map((child) => this.next(child, 'ready')));
  }

  /** Starts a phase; resolves with every worker's report once each got `expected` messages. */
  phase(expected: number): Promise<Extract<Report, { type: 'done' }>[]> {
    const reports = this.children.map((child) => this.next(child, 'done'));
    for (const child of this.children) child.send({ expected } satisfies Phase);
    return Promise.all(reports) as Promise<Extract<Report, { type: 'done' }>[]>;
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.children.map(
        (child) =>
          new Promise<void>((resolve) => {
            child.once('exit', () => resolve());
            child.send('stop');
            setTimeout(() => child.kill('SIGKILL'), 5000).unref();
          }),
      ),
    );
  }

  private next(child: ChildProcess, type: Report['type']): Promise<Report> {
    return new Promise((resolve, reject) => {
      const onMessage = (report: Report): void => {
        if (report.type !== type) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(report);
      };
      const onExit = (code: number | null): void =>
        reject(new Error(`a worker exited (${code}) before '${type}'`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  }
}

interface Figures {
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
}

function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))];
}

/** One scenario: `send(i)` publishes message `i` (to everyone, or to one group). */
async function measure(workers: Workers, send: (i: number) => Promise<unknown>): Promise<Figures> {
  const count = Number(values.messages);
  const throughput = workers.phase(count);
  const start = epochNow();
  let next = 0;
  const publisher = async (): Promise<void> => {
    while (next < count) await send(next++);
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, publisher));
  const lastAt = Math.max(...(await throughput).map((report) => report.at));
  const perSecond = (WORKERS * count) / ((lastAt - start) / 1000);

  const paced = Number(values['latency-messages']);
  const latency = workers.phase(paced);
  const interval = 1000 / Number(values.rate);
  const begin = epochNow();
  for (let i = 0; i < paced; i++) {
    const due = begin + i * interval - epochNow();
    if (due > 0) await new Promise((resolve) => setTimeout(resolve, due));
    void send(i);
  }
  const latencies = (await latency).flatMap((report) => report.latencies);
  return { perSecond, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) };
}

async function run(target: Target): Promise<{ all: Figures; groups: Figures }> {
  const workers = new Workers();
  let redis: DemoRedis | null = null;
  try {
    await workers.start(target);
    redis = await connectRedis(target);
    const broker = await createBroker({ redis: redis.client, channel: CHANNEL });
    const all = await measure(workers, () => broker.publish(message()));
    const groups = await measure(workers, (i) => broker.publishTo(groupName(i % target.groups), message()));
    await broker.close();
    return { all, groups };
  } finally {
    await workers.stop();
    await redis?.close();
  }
}

async function main(): Promise<void> {
  const server = findBinary('redis-server');
  const cli = findBinary('redis-cli');
  if (server === null || cli === null) throw new Error('needs redis-server and redis-cli (redis-tools)');
  const library = values.client as RedisLibrary;
  if (library !== 'node-redis' && library !== 'ioredis') throw new Error('--client is node-redis or ioredis');
  const groups = Number(values.groups);
  const dir = new ScratchDir('sockjs-redis-fanout-');
  const single = await startRedis(server, dir);
  const cluster = await startRedisCluster(server, cli, dir);
  const setups: [string, Target][] = [
    ['one redis-server', { urls: [single.url], cluster: false, library, groups }],
    ['three-shard cluster', { urls: cluster.nodes.map((node) => node.url), cluster: true, library, groups }],
  ];
  try {
    const reps = Number(values.reps);
    console.log(
      `${library}, ${WORKERS} receiving processes, ${values.messages} messages for throughput, ` +
        `${values['latency-messages']} at ${values.rate}/s for latency, ${groups} groups; median of ${reps} run(s)`,
    );
    console.log('| Redis | scenario | delivered/s (3 processes) | latency median | latency p99 |');
    console.log('| ----- | -------- | ------------------------- | -------------- | ----------- |');
    for (const [name, target] of setups) {
      const runs: { all: Figures; groups: Figures }[] = [];
      for (let rep = 0; rep < reps; rep++) runs.push(await run(target));
      for (const scenario of ['all', 'groups'] as const) {
        const pick = (field: keyof Figures): number =>
          median(runs.map((figures) => figures[scenario][field]));
        const label = scenario === 'all' ? 'publish()' : `publishTo(), ${groups} groups`;
        console.log(
          `| ${name} | ${label} | ${Math.round(pick('perSecond'))} | ${pick('p50').toFixed(2)} ms | ${pick('p99').toFixed(2)} ms |`,
        );
      }
    }
  } finally {
    await single.child.stop();
    await cluster.stop();
    dir.remove();
  }
}

(values.worker ? worker() : main()).catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
  if (values.worker) process.exit(1);
});
