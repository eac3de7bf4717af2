/**
 * What one message to many websockets costs the server: a loop of `conn.write()` over every
 * connection against `broker.publish()` of the main entry's broker, to idle websocket
 * sessions held by real `ws` clients in a child process on loopback. The figure is the
 * server process's CPU time (user + system) per message delivered to one connection.
 * Messages go out one per event-loop turn, as events of a chat or a feed do, so each is
 * alone in its frame.
 *
 *   npx tsc -p tsconfig.spec.json && node build/bench/fan-out.js [--connections 1000] [--messages 2000] [--reps 3]
 */
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import express from 'express';
import WebSocket from 'ws';
import { attachUpgrade, createBroker, sockjsMiddleware, type Connection } from '../lib';

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '1000' },
    messages: { type: 'string', default: '2000' },
    reps: { type: 'string', default: '3' },
    clients: { type: 'string' },
  },
});

/** Messages a room sends: plain text, a JSON event (quotes to escape), a long JSON post. */
const MESSAGES = {
  plain: 'A plain chat line of about one hundred bytes, with nothing in it that JSON escapes at all....',
  json: JSON.stringify({
    type: 'message',
    from: { name: 'Guest 12', transport: 'websocket' },
    text: 'hello, everyone',
    at: 1764900000000,
  }),
  'json 4 KiB': JSON.stringify({ type: 'post', body: 'A "quoted" line of a long post.\n'.repeat(128) }),
} as const;

type ParentMessage = { expect: number };
type ChildMessage = { ready: true } | { received: number };

/** The child: `count` websocket sessions that count the messages they receive. */
async function runClients(url: string, count: number): Promise<void> {
  let received = 0;
  let expected = Infinity;
  const report = (): void => {
    if (received >= expected) {
      expected = Infinity;
      process.send?.({ received } satisfies ChildMessage);
      received = 0;
    }
  };
  const opened: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const ws = new WebSocket(`${url}/000/${randomUUID()}/websocket`);
    opened.push(
      new Promise((resolve, reject) => {
        ws.once('error', reject);
        ws.on('message', (data: Buffer) => {
          if (data[0] === 0x6f)
            resolve(); // o
          else if (data[0] === 0x61) {
            received += (JSON.parse(data.toString('utf8', 1)) as string[]).length; // a[...]
            report();
          }
        });
      }),
    );
  }
  await Promise.all(opened);
  process.on('message', (message: ParentMessage) => {
    expected = message.expect;
    report();
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.({ ready: true } satisfies ChildMessage);
}

function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

async function main(): Promise<void> {
  const count = Number(values.connections);
  const messages = Number(values.messages);
  const reps = Number(values.reps);
  const broker = createBroker();
  const service = sockjsMiddleware({ heartbeatDelay: 600_000 });
  broker.attach(service);
  const connections = new Set<Connection>();
  service.on('connection', (conn) => {
    connections.add(conn);
    conn.on('close', () => connections.delete(conn));
  });
  const app = express();
  app.use('/', service);
  const server = createServer(app);
  attachUpgrade(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const child = fork(__filename, ['--clients', url, '--connections', String(count)]);
  const fromChild = (): Promise<ChildMessage> =>
    new Promise((resolve) => child.once('message', (message: ChildMessage) => resolve(message)));
  await fromChild();
  while (connections.size < count) await nextTurn();

  const ways = {
    'conn.write() loop': async (message: string): Promise<void> => {
      for (const conn of connections) conn.write(message);
    },
    'broker.publish()': async (message: string): Promise<void> => {
      await broker.publish(message);
    },
  };
  /** Server CPU microseconds per message delivered to one connection. */
  const measure = async (send: (message: string) => Promise<void>, message: string, n: number) => {
    const delivered = fromChild();
    child.send({ expect: n * count } satisfies ParentMessage);
    const start = process.cpuUsage();
    for (let i = 0; i < n; i++) {
      await send(message);
      await nextTurn();
    }
    await delivered;
    const used = process.cpuUsage(start);
    return (used.user + used.system) / (n * count);
  };

  console.log(`${count} idle websocket sessions, ${messages} messages a run, ${reps} runs each`);
  console.log(
    'server CPU per delivered message, microseconds: median (every run); publish/write ratio, median of the pairs',
  );
  for (const [kind, message] of Object.entries(MESSAGES)) {
    const runs = new Map<string, number[]>(Object.keys(ways).map((name) => [name, []]));
    for (const send of Object.values(ways)) await measure(send, message, Math.ceil(messages / 10)); // warm-up
    // The ways take turns, so that other load on the machine weighs on both alike.
    for (let r = 0; r < reps; r++) {
      for (const [name, send] of Object.entries(ways))
        runs.get(name)?.push(await measure(send, message, messages));
    }
    const [written, published] = [...runs.values()];
    for (const [name, values] of runs) {
      console.log(
        `${kind.padEnd(10)} ${name.padEnd(18)} ${median(values).toFixed(2)} (${values.map((v) => v.toFixed(2)).join(', ')})`,
      );
    }
    const ratios = published.map((value, i) => value / written[i]);
    console.log(`${kind.padEnd(10)} ${'ratio'.padEnd(18)} ${median(ratios).toFixed(2)}`);
  }
  child.kill();
  await broker.close();
  await service.close();
  server.closeAllConnections();
  server.close();
}

if (values.clients !== undefined) {
  void runClients(values.clients, Number(values.connections));
} else {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
