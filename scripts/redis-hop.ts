/**
 * `npm run redis-hop`: what forwarding through Redis adds per message. Starts a
 * redis-server and two demo processes that forward (`broker.forward()`), opens one
 * session at the first, and times echo round trips (a send, its message back on the
 * receiving request) with the send and the receiving request at either process:
 *
 *   local      both at the session's process: no Redis on the way
 *   send       the send at the other process (forwarded, then acknowledged)
 *   receive    the receiving request at the other process (its frames relayed)
 *   both       both at the other process
 *
 * for xhr-polling (a new receiving request per message) and xhr-streaming (one response).
 * ROUNDS (default 2000) round trips each, over keep-alive connections, on loopback.
 */
import http from 'node:http';
import {
  findBinary,
  ScratchDir,
  startDemoInstance,
  startRedis,
  type DemoInstance,
} from './cluster/processes';

const ROUNDS = Number(process.env.ROUNDS ?? 2000);
const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

function post(url: string, body = ''): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      { method: 'POST', agent, headers: { 'Content-Length': Buffer.byteLength(body) } },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
      },
    );
    request.setTimeout(10_000, () => request.destroy(new Error(`timed out: ${url}`)));
    request.on('error', reject);
    request.end(body);
  });
}

interface Result {
  readonly median: number;
  readonly p99: number;
}

function summarise(samples: number[]): Result {
  samples.sort((a, b) => a - b);
  return { median: samples[Math.floor(samples.length / 2)], p99: samples[Math.floor(samples.length * 0.99)] };
}

/** Opens a session at `owner`; returns how to address its transports on any instance. */
async function openSession(
  owner: DemoInstance,
  name: string,
): Promise<(instance: DemoInstance, transport: string) => string> {
  const session = `${name}${Date.now()}`;
  const url = (instance: DemoInstance, transport: string): string =>
    `${instance.url}/echo/000/${session}/${transport}`;
  if ((await post(url(owner, 'xhr'))).body !== 'o\n') throw new Error('no open frame');
  return url;
}

/** Where a measured session is opened, and where its sends and receiving requests go. */
interface Hop {
  readonly owner: DemoInstance;
  readonly sendAt: DemoInstance;
  readonly receiveAt: DemoInstance;
  readonly name: string;
}

async function polling({ owner, sendAt, receiveAt, name }: Hop): Promise<Result> {
  const url = await openSession(owner, name);
  const samples: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const start = process.hrtime.bigint();
    const poll = post(url(receiveAt, 'xhr'));
    const sent = await post(url(sendAt, 'xhr_send'), JSON.stringify([`m${i}`]));
    if (sent.status !== 204) throw new Error(`send answered ${sent.status}`);
    const frame = (await poll).body;
    if (frame !== `a["m${i}"]\n`) throw new Error(`unexpected frame ${JSON.stringify(frame)}`);
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return summarise(samples);
}

async function streaming({ owner, sendAt, receiveAt, name }: Hop): Promise<Result> {
  const url = await openSession(owner, name);
  const samples: number[] = [];
  let buffered = '';
  let waiting: (() => void) | null = null;
  let finished = false;
  // One response carries frames up to responseLimit (128 KiB); a new one follows when it ends.
  const open = (): void => {
    const request = http.request(
      url(receiveAt, 'xhr_streaming'),
      { method: 'POST', agent: false },
      (response) => {
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          buffered += chunk;
          waiting?.();
        });
        response.on('end', () => {
          if (!finished) open();
        });
      },
    );
    request.end();
  };
  open();
  const nextFrame = async (): Promise<string> => {
    for (;;) {
      const newline = buffered.indexOf('\n');
      if (newline !== -1) {
        const frame = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (frame.startsWith('h')) continue;
        return frame;
      }
      await new Promise<void>((resolve) => (waiting = resolve));
      waiting = null;
    }
  };
  for (let i = 0; i < ROUNDS; i++) {
    const start = process.hrtime.bigint();
    const sent = await post(url(sendAt, 'xhr_send'), JSON.stringify([`m${i}`]));
    if (sent.status !== 204) throw new Error(`send answered ${sent.status}`);
    const frame = await nextFrame();
    if (frame !== `a["m${i}"]`) throw new Error(`unexpected frame ${JSON.stringify(frame)}`);
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  finished = true;
  return summarise(samples);
}

async function main(): Promise<void> {
  const binary = findBinary('redis-server');
  if (binary === null) {
    console.error('redis-hop: needs redis-server (apt-get install redis-server)');
    process.exitCode = 1;
    return;
  }
  const dir = new ScratchDir('sockjs-redis-hop-');
  const redis = await startRedis(binary, dir);
  const instances: DemoInstance[] = [];
  try {
    for (const name of ['owner', 'other']) {
      instances.push(await startDemoInstance({ instance: name, redisUrl: redis.url, forward: true }));
    }
    const [owner, other] = instances;
    const cases = [
      ['local', owner, owner],
      ['send', other, owner],
      ['receive', owner, other],
      ['both', other, other],
    ] as const;
    console.log(`${ROUNDS} echo round trips each, loopback, node ${process.version}; ms`);
    console.log('transport       path      median    p99');
    for (const [transportName, run] of [
      ['xhr-polling', polling],
      ['xhr-streaming', streaming],
    ] as const) {
      for (const [name, sendAt, receiveAt] of cases) {
        const result = await run({ owner, sendAt, receiveAt, name });
        console.log(
          `${transportName.padEnd(15)} ${name.padEnd(8)} ${result.median.toFixed(3).padStart(7)} ${result.p99.toFixed(3).padStart(7)}`,
        );
      }
    }
  } finally {
    agent.destroy();
    await Promise.all(instances.map((instance) => instance.child.stop()));
    await redis.child.stop();
    dir.remove();
  }
}

void main();
