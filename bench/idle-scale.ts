/**
 * `npm run bench:idle-scale`: the cost of idle sessions as their number grows. One server
 * per target and transport opens idle sessions in steps (1,000, 2,000, 5,000, 10,000,
 * 18,000 by default) and at each step reports memory per session after a full GC and the
 * server CPU per second its heartbeats and expiry sweep cost, with a heartbeat shortened
 * to BENCH_HEARTBEAT_MS so that a window of seconds holds several of them.
 *
 *   npm run bench:idle-scale
 *   npm run bench:idle-scale -- --idle-steps 500,1000 --reps 1 --window 5000 --label smoke
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ClientTarget, CpuReply, LoadResult, MemoryReply } from './ipc';
import { IpcPeer } from './ipc';
import { machineBusyMicros, openFileLimit, pretty } from './host';
import { killChildren, pinning, start, startServer, stop } from './processes';
import { TARGETS, type ScenarioSpec, type TargetName, type Transport } from './scenarios';
import { chartOf, markdownOf, type ScaleInfo, type StepRecord } from './idle-scale-report';
import { lineChart } from './svg-chart';

type ScaleTransport = Extract<Transport, 'websocket' | 'xhr-streaming'>;

interface Options {
  steps: number[];
  targets: TargetName[];
  transports: ScaleTransport[];
  heartbeatMs: number;
  windowMs: number;
  reps: number;
  pin: boolean;
  outDir: string;
  label: string | null;
}

/**
 * 5 s: five heartbeats per default period, and the same expiry tick as the default 25 s
 * (ours ticks every quarter of the shorter of heartbeat and disconnect delay, 5 s either
 * way), so only the heartbeats come more often.
 */
const DEFAULT_HEARTBEAT_MS = 5000;
/** The default heartbeat period of every target, which the figures are scaled back to. */
export const DEFAULT_PERIOD_MS = 25_000;
/** Descriptors a process keeps for itself besides the sessions: listeners, IPC, files. */
const SPARE_FILE_DESCRIPTORS = 1000;

const HELP = `Usage: npm run bench:idle-scale -- [options]
  --idle-steps a,b,...  idle sessions at each step, opened one step after the other in the
                        same server (default 1000,2000,5000,10000,18000; capped at the
                        open-file limit less ${SPARE_FILE_DESCRIPTORS})
  --target a,b          default ours-http,ours-express,sockjs-node,bare-ws (bare-ws: websocket only)
  --transport a,b       websocket, xhr-streaming (default both)
  --heartbeat MS        heartbeat period of every target during the run (default ${DEFAULT_HEARTBEAT_MS})
  --window MS           CPU window per step (default four heartbeat periods)
  --reps N              repetitions, targets alternating (default 2)
  --no-pin              do not pin server and load generator to cores
  --out DIR             default bench/results
  --label NAME          write idle-scale-NAME.{md,json,svg} instead of idle-scale.*`;

function parseArgs(argv: string[]): Options {
  const options: Options = {
    steps: [1000, 2000, 5000, 10_000, 18_000],
    targets: ['ours-http', 'ours-express', 'sockjs-node', 'bare-ws'],
    transports: ['websocket', 'xhr-streaming'],
    heartbeatMs: DEFAULT_HEARTBEAT_MS,
    windowMs: 0,
    reps: 2,
    pin: true,
    outDir: resolve(__dirname, '../../bench/results'),
    label: null,
  };
  const list = (value: string | undefined): string[] => (value ?? '').split(',').filter((v) => v !== '');
  const positive = (flag: string, value: string | undefined): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} needs a positive integer`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string | undefined => argv[++i];
    switch (flag) {
      case '--idle-steps':
        options.steps = list(value()).map((v) => positive(flag, v));
        if (options.steps.some((n, j) => j > 0 && n <= options.steps[j - 1]))
          throw new Error('--idle-steps must grow from one step to the next');
        break;
      case '--target':
        options.targets = list(value()).map((name) => {
          if (!(name in TARGETS)) throw new Error(`unknown target ${name}`);
          return name as TargetName;
        });
        break;
      case '--transport':
        options.transports = list(value()).map((t) => {
          if (t !== 'websocket' && t !== 'xhr-streaming')
            throw new Error('--transport takes websocket, xhr-streaming');
          return t;
        });
        break;
      case '--heartbeat':
        options.heartbeatMs = positive(flag, value());
        break;
      case '--window':
        options.windowMs = positive(flag, value());
        break;
      case '--reps':
        options.reps = positive(flag, value());
        break;
      case '--no-pin':
        options.pin = false;
        break;
      case '--out':
        options.outDir = resolve(value() ?? '.');
        break;
      case '--label':
        options.label = value() ?? null;
        break;
      case '--help':
      case '-h':
        console.log(HELP);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${flag}\n${HELP}`);
    }
  }
  if (options.windowMs === 0) options.windowMs = 4 * options.heartbeatMs;
  const limit = openFileLimit();
  if (limit !== null) {
    const cap = limit - SPARE_FILE_DESCRIPTORS;
    const capped = options.steps.filter((n) => n < cap);
    if (capped.length < options.steps.length) capped.push(cap);
    options.steps = capped;
  }
  return options;
}

/** The load the load generator runs: idle sessions, opened in steps. */
function specOf(transport: ScaleTransport, steps: readonly number[]): ScenarioSpec {
  return {
    id: transport === 'websocket' ? 'ws-idle-scale' : 'xhr-streaming-idle-scale',
    title: `${transport} idle sessions in steps`,
    transport,
    // The load generator's idle load: it opens sessions on request and keeps them.
    kind: 'idle-memory',
    sessions: steps[steps.length - 1],
    inFlight: 0,
    messageBytes: 0,
    byDefault: false,
    // A few thousand per address: each step's burst of connects never waits for ports.
    sessionsPerSourceAddress: 5000,
  };
}

/**
 * The SockJS servers on both transports, bare ws on websockets: the floors that have no
 * sessions (bare-http, express-baseline, ws-minimum) send no heartbeats to measure.
 */
function takesPart(target: TargetName, transport: ScaleTransport): boolean {
  const spec = TARGETS[target];
  if (!(transport === 'websocket' ? spec.serves.websocket : spec.serves.http)) return false;
  return spec.library || target === 'sockjs-node' || (target === 'bare-ws' && transport === 'websocket');
}

const delay = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));
const cpuMicros = (usage: CpuReply): number => usage.user + usage.system;

/** One server through every step; a failed step ends the run, its figures kept. */
async function runSteps(
  options: Options,
  transport: ScaleTransport,
  target: TargetName,
  rep: number,
  client: IpcPeer,
  serverPins: string[],
): Promise<StepRecord[]> {
  const records: StepRecord[] = [];
  const server = await startServer(target, serverPins, { BENCH_HEARTBEAT_MS: String(options.heartbeatMs) });
  const clientTarget: ClientTarget = { name: target, port: server.port, wire: TARGETS[target].wire };
  let open = 0;
  try {
    await client.request(
      { type: 'setup', spec: specOf(transport, options.steps), target: clientTarget },
      60_000,
    );
    const base = await server.peer.request<MemoryReply>({ type: 'memory' }, 30_000);
    // What the process spends with no session open (its timers, the IPC, the collector):
    // taken off every step's window, so that only the sessions' share is charged to them.
    const idleBefore = server.peer.request<CpuReply>({ type: 'cpu' }, 10_000);
    const idle = await client.request<LoadResult>(
      { type: 'measure', durationMs: options.heartbeatMs },
      options.heartbeatMs + 30_000,
    );
    const idleMicros =
      cpuMicros(await server.peer.request<CpuReply>({ type: 'cpu' }, 10_000)) - cpuMicros(await idleBefore);
    const baseCpuMsPerSecond = idleMicros / idle.elapsedMs;
    for (const step of options.steps) {
      const record: StepRecord = { transport, target, rep, step, sessions: open };
      records.push(record);
      try {
        const opened = await client.request<LoadResult>(
          { type: 'open-idle', sessions: step - open },
          600_000,
        );
        open = opened.openSessions;
        record.sessions = open;
        if (open < step) throw new Error(`${open} of ${step} sessions open (${opened.errors} errors)`);
        // Handshake buffers freed and timers armed before the count, as in ws-idle-memory.
        await delay(1000);
        const after = await server.peer.request<MemoryReply>({ type: 'memory' }, 60_000);
        record.rssPerSession = (after.rss - after.young - (base.rss - base.young)) / open;
        record.heapPerSession = (after.heapUsed + after.external - base.heapUsed - base.external) / open;
        record.rss = after.rss;
        record.baseRss = base.rss;
        record.baseCpuMsPerSecond = baseCpuMsPerSecond;
        // One whole period after the burst and the GC: every session has its heartbeat due.
        await client.request(
          { type: 'measure', durationMs: options.heartbeatMs },
          options.heartbeatMs + 30_000,
        );
        const cpuBefore = server.peer.request<CpuReply>({ type: 'cpu' }, 10_000);
        const machineBefore = machineBusyMicros();
        const window = await client.request<LoadResult>(
          { type: 'measure', durationMs: options.windowMs },
          options.windowMs + 30_000,
        );
        const serverMicros =
          cpuMicros(await server.peer.request<CpuReply>({ type: 'cpu' }, 10_000)) -
          cpuMicros(await cpuBefore);
        const machineAfter = machineBusyMicros();
        const seconds = window.elapsedMs / 1000;
        record.cpuMsPerSecond = serverMicros / 1000 / seconds;
        record.heartbeatsPerSecond = window.count / seconds;
        record.closedInWindow = window.errors;
        record.otherCpu =
          machineBefore === null || machineAfter === null
            ? undefined
            : Math.max(
                0,
                machineAfter - machineBefore - serverMicros - window.clientCpu * window.elapsedMs * 1000,
              ) /
              1000 /
              window.elapsedMs;
      } catch (error) {
        record.error = error instanceof Error ? error.message : String(error);
        break;
      } finally {
        console.log(`  rep ${rep + 1} ${transport.padEnd(13)} ${target.padEnd(13)} ${describe(record)}`);
      }
    }
    await client.request({ type: 'teardown' }, 60_000);
  } finally {
    await stop(server.child, server.peer);
  }
  return records;
}

function describe(record: StepRecord): string {
  const head = `${String(record.step).padStart(6)} sessions: `;
  if (record.error !== undefined) return head + `FAILED: ${record.error}`;
  return (
    head +
    `${((record.rssPerSession ?? NaN) / 1024).toFixed(2)} KiB RSS, ${((record.heapPerSession ?? NaN) / 1024).toFixed(2)} KiB heap /session; ` +
    `${(record.cpuMsPerSecond ?? NaN).toFixed(2)} ms CPU/s, ${Math.round(record.heartbeatsPerSecond ?? 0)} heartbeats/s, ` +
    `other CPU ${record.otherCpu === undefined ? '?' : Math.round(record.otherCpu * 100) + '%'}`
  );
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const pins = pinning(options.pin, null);
  const started = Date.now();
  console.log(
    `idle sessions in steps of ${options.steps.join(', ')}; heartbeat ${options.heartbeatMs} ms, ` +
      `${options.windowMs} ms window; ${options.reps} repetition(s); ${pins.text}`,
  );
  const records: StepRecord[] = [];
  let clientChild = start(pins.client, [join(__dirname, 'client.js')], 'load generator');
  let client = new IpcPeer(clientChild, 'load generator');
  try {
    for (let rep = 0; rep < options.reps; rep++) {
      for (const transport of options.transports) {
        const targets = options.targets.filter((t) => takesPart(t, transport));
        // Alternating the order: slow drifts of the machine hit every target alike.
        for (const target of rep % 2 === 0 ? targets : [...targets].reverse()) {
          try {
            records.push(...(await runSteps(options, transport, target, rep, client, pins.server)));
          } catch (error) {
            const message = error instanceof Error ? error.message : String(error);
            console.log(`  rep ${rep + 1} ${transport} ${target}: FAILED: ${message}`);
            records.push({ transport, target, rep, step: options.steps[0], sessions: 0, error: message });
            // A load generator in an unknown state is replaced, not reused.
            clientChild.kill('SIGKILL');
            await stop(clientChild, null);
            clientChild = start(pins.client, [join(__dirname, 'client.js')], 'load generator');
            client = new IpcPeer(clientChild, 'load generator');
          }
        }
      }
    }
  } finally {
    await stop(clientChild, client);
    killChildren();
  }
  const info: ScaleInfo = {
    date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    command:
      'npm run bench:idle-scale' + (process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''),
    node: process.version,
    pinning: pins.text,
    steps: options.steps,
    heartbeatMs: options.heartbeatMs,
    defaultPeriodMs: DEFAULT_PERIOD_MS,
    windowMs: options.windowMs,
    reps: options.reps,
    openFileLimit: openFileLimit(),
  };
  mkdirSync(options.outDir, { recursive: true });
  const name = options.label === null ? 'idle-scale' : `idle-scale-${options.label}`;
  const paths = ['md', 'json', 'svg'].map((ext) => join(options.outDir, `${name}.${ext}`));
  const md = await pretty(markdownOf(info, records, `${name}.svg`), paths[0]);
  writeFileSync(paths[0], md);
  writeFileSync(paths[1], await pretty(JSON.stringify({ info, runs: records }), paths[1]));
  writeFileSync(paths[2], lineChart(chartOf(info, records)));
  console.log('\n' + md);
  console.log(`written: ${paths.join(', ')} (${Math.round((Date.now() - started) / 1000)} s)`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  killChildren();
  process.exit(1);
});
