/**
 * Websocket open + close, two targets side by side: both servers run at once (pinned to
 * core 0), and the load (here, pinned to core 1) alternates between them in short windows,
 * A B B A A B ... The host's slow and fast phases, which last seconds to minutes on a
 * shared virtual machine, then fall on both alike; `npm run bench` runs one target at a
 * time and cannot pair that finely.
 *
 *   npm run bench:interleave -- --targets ours-http,bare-ws [--windows 40] [--window 400]
 */
import { spawnSync } from 'node:child_process';
import { pinning, startServer, stop, type Server } from './processes';
import { openSocket } from './load/websocket';
import { withTimeout } from './load/common';
import type { CpuReply } from './ipc';
import { SCENARIOS, TARGETS, type TargetName } from './scenarios';

interface Running extends Server {
  name: TargetName;
  cpuMicros: number;
  sessions: number;
}

/** Sessions open at a time, as in the full run's ws-open-close. */
const LOOPS = SCENARIOS.find((spec) => spec.id === 'ws-open-close')?.sessions ?? 10;
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

async function start(name: TargetName, prefix: string[]): Promise<Running> {
  return { ...(await startServer(name, prefix)), name, cpuMicros: 0, sessions: 0 };
}

/** One session as the full run's open + close loop has it: open, close, wait for the close. */
async function session(target: Running): Promise<void> {
  const ws = await openSocket({ name: target.name, port: target.port, wire: TARGETS[target.name].wire });
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  ws.close(1000);
  await withTimeout(closed, 10_000, 'websocket close');
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
  const pins = pinning(true, null);
  // The load runs here: this process takes the load generator's core.
  if (pins.client.length > 0)
    spawnSync('taskset', ['-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
  const [a, b] = [await start(targets[0], pins.server), await start(targets[1], pins.server)];
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
  await Promise.all([a, b].map((target) => stop(target.child, target.peer)));
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
