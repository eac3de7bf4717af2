/**
 * Websocket open + close, two targets side by side: both servers run at once (pinned to
 * core 0), and the load (here, pinned to core 1) alternates between them in short windows,
 * A B B A A B ... The host's slow and fast phases, which last seconds to minutes on a
 * shared virtual machine, then fall on both alike; `npm run bench` runs one target at a
 * time and cannot pair that finely.
 *
 *   npm run bench:interleave -- --targets ours-http,bare-ws [--windows 40] [--window 400]
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { IpcPeer, type CpuReply } from './ipc';
import { TARGETS, type TargetName } from './scenarios';

interface Running {
  name: TargetName;
  peer: IpcPeer;
  port: number;
  cpuMicros: number;
  sessions: number;
}

const LOOPS = 10;
const WARMUP_MS = 1500;

function parse(argv: string[]): { targets: [TargetName, TargetName]; windows: number; windowMs: number } {
  let targets: string[] = ['ours-http', 'bare-ws'];
  let windows = 40;
  let windowMs = 400;
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i + 1];
    if (argv[i] === '--targets') targets = (value ?? '').split(',');
    else if (argv[i] === '--windows') windows = Number(value);
    else if (argv[i] === '--window') windowMs = Number(value);
    else throw new Error(`unknown option ${argv[i]}`);
    i++;
  }
  if (
    targets.length !== 2 ||
    !targets.every((t) => t in TARGETS && TARGETS[t as TargetName].serves.websocket)
  ) {
    throw new Error(`--targets needs two websocket targets of: ${Object.keys(TARGETS).join(', ')}`);
  }
  if (!Number.isInteger(windows) || windows < 2 || !(windowMs > 0))
    throw new Error('bad --windows or --window');
  return { targets: targets as [TargetName, TargetName], windows, windowMs };
}

function pinned(core: number): string[] {
  const probe = spawnSync('taskset', ['-c', String(core), 'true'], { stdio: 'ignore' });
  return probe.status === 0 ? ['taskset', '-c', String(core)] : [];
}

async function start(name: TargetName): Promise<Running> {
  const command = [...pinned(0), process.execPath, join(__dirname, 'servers', TARGETS[name].script)];
  const child = spawn(command[0], command.slice(1), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  process.on('exit', () => child.kill());
  const peer = new IpcPeer(child, name);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 15 s`)), 15_000);
    child.on('message', (message: { type?: string; port?: number }) => {
      if (message.type !== 'ready' || typeof message.port !== 'number') return;
      clearTimeout(timer);
      resolve(message.port);
    });
  });
  return { name, peer, port, cpuMicros: 0, sessions: 0 };
}

/** One session: open, wait for `o` (SockJS) or the handshake (raw), close, wait for the close. */
function session(target: Running): Promise<void> {
  return new Promise((resolve, reject) => {
    const base = `ws://127.0.0.1:${target.port}/echo`;
    const sockjs = TARGETS[target.name].wire === 'sockjs';
    const ws = new WebSocket(sockjs ? `${base}/000/${randomBytes(6).toString('hex')}/websocket` : base, {
      perMessageDeflate: false,
    });
    ws.once(sockjs ? 'message' : 'open', () => ws.close(1000));
    ws.once('close', () => resolve());
    ws.once('error', reject);
  });
}

/** Sessions opened and closed by LOOPS loops in `ms`. */
async function load(target: Running, ms: number): Promise<number> {
  const until = Date.now() + ms;
  let done = 0;
  const loop = async (): Promise<void> => {
    while (Date.now() < until) {
      await session(target);
      done++;
    }
  };
  await Promise.all(Array.from({ length: LOOPS }, loop));
  return done;
}

async function cpuOf(target: Running): Promise<number> {
  const { user, system } = await target.peer.request<CpuReply>({ type: 'cpu' }, 10_000);
  return user + system;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.round(q * (sorted.length - 1))];
}

async function main(): Promise<void> {
  const { targets, windows, windowMs } = parse(process.argv.slice(2));
  const pin = pinned(1);
  if (pin.length > 0) spawnSync('taskset', ['-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
  const [a, b] = [await start(targets[0]), await start(targets[1])];
  for (const target of [a, b]) await load(target, WARMUP_MS);
  const ratios: number[] = [];
  for (let w = 0; w < windows; w++) {
    const perSession = new Map<Running, number>();
    for (const target of w % 2 === 0 ? [a, b] : [b, a]) {
      const before = await cpuOf(target);
      const sessions = await load(target, windowMs);
      const used = (await cpuOf(target)) - before;
      target.cpuMicros += used;
      target.sessions += sessions;
      perSession.set(target, used / sessions);
    }
    ratios.push((perSession.get(a) as number) / (perSession.get(b) as number));
  }
  ratios.sort((x, y) => x - y);
  const fmt = (t: Running): string =>
    `${t.name} ${(t.cpuMicros / t.sessions).toFixed(1)} µs/session (${t.sessions} sessions)`;
  console.log(`websocket open + close, ${windows} windows of ${windowMs} ms each, alternating`);
  console.log(`${fmt(a)}; ${fmt(b)}`);
  console.log(
    `${a.name} ÷ ${b.name}: ${(a.cpuMicros / a.sessions / (b.cpuMicros / b.sessions)).toFixed(3)} over all windows; ` +
      `per window pair median ${quantile(ratios, 0.5).toFixed(3)} (quartiles ${quantile(ratios, 0.25).toFixed(3)}–${quantile(ratios, 0.75).toFixed(3)})`,
  );
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
