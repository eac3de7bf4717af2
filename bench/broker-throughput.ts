/**
 * What the `secret` option costs: messages a second through one redis-server, from one
 * broker's publish() to another broker's tracked connection, with and without a secret.
 * Both brokers run in this process, each with its own Redis connections; the connection is
 * a counter, so the figure is the broker's and Redis's alone.
 *
 *   npx tsc -p tsconfig.spec.json && node build/bench/broker-throughput.js [--messages 50000] [--reps 3]
 */
import { parseArgs } from 'node:util';
import { createClient } from 'redis';
import { createBroker, type Broker } from '../lib/redis';
import { countingConnection } from './counting-connection';
import { ScratchDir, findBinary, startRedis } from '../scripts/cluster/processes';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '50000' },
    reps: { type: 'string', default: '3' },
  },
});
const MESSAGES = Number(values.messages);
const REPS = Number(values.reps);
/** Publishes awaited at a time: enough to keep Redis busy, few enough to bound memory. */
const IN_FLIGHT = 500;

async function connect(url: string) {
  const client = createClient({ url });
  client.on('error', (error: Error) => console.error(`redis: ${error.message}`));
  await client.connect();
  return client;
}

async function run(url: string, secret: string | undefined, size: number): Promise<number> {
  const clients = [await connect(url), await connect(url)];
  const channel = `bench${Math.random().toString(36).slice(2)}`;
  const [publisher, receiver]: Broker[] = await Promise.all(
    clients.map((redis) => createBroker({ redis, channel, secret })),
  );
  const counter = countingConnection();
  receiver.attach(counter.source);
  const message = 'm'.repeat(size);
  const start = process.hrtime.bigint();
  let sent = 0;
  const worker = async (): Promise<void> => {
    while (sent < MESSAGES) {
      sent++;
      await publisher.publish(message);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  while (counter.count() < MESSAGES) await new Promise((resolve) => setImmediate(resolve));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await publisher.close();
  await receiver.close();
  for (const client of clients) await client.close();
  return MESSAGES / seconds;
}

function median(numbers: number[]): number {
  const sorted = [...numbers].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main(): Promise<void> {
  const binary = findBinary('redis-server');
  if (binary === null) throw new Error('redis-server is not installed');
  const dir = new ScratchDir('sockjs-broker-bench-');
  const redis = await startRedis(binary, dir);
  try {
    console.log(`${MESSAGES} messages, median of ${REPS} runs (messages per second)`);
    console.log('| payload | without secret | with secret | change |');
    console.log('| ------- | -------------- | ----------- | ------ |');
    for (const size of [16, 1024, 16 * 1024]) {
      const plain: number[] = [];
      const signed: number[] = [];
      // Interleaved, so that a slow moment of the machine falls on both alike.
      for (let rep = 0; rep < REPS; rep++) {
        plain.push(await run(redis.url, undefined, size));
        signed.push(await run(redis.url, 'a secret for the benchmark, 32 b', size));
      }
      const [without, withSecret] = [median(plain), median(signed)];
      const change = ((withSecret / without - 1) * 100).toFixed(1);
      console.log(`| ${size} B | ${Math.round(without)} | ${Math.round(withSecret)} | ${change} % |`);
    }
  } finally {
    await redis.child.kill();
    dir.remove();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
