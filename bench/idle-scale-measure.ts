/**
 * The idle-scale measurement itself: one fresh server per target and transport opens idle
 * sessions in steps, and at each step memory per session after a full GC and the server
 * CPU per second its heartbeats and expiry sweep cost. Shared by `npm run bench:idle-scale`
 * (idle-scale.ts) and the `idle-scale` scenario of `npm run bench` (run.ts).
 */
import type { ClientTarget, CpuReply, LoadResult, MemoryReply } from './ipc';
import type { IpcPeer } from './ipc';
import { SPARE_FILE_DESCRIPTORS, machineBusyMicros, openFileLimit } from './host';
import { startServer, stop } from './processes';
import { TARGETS, type ScenarioSpec, type TargetName, type Transport } from './scenarios';
import type { ScaleInfo, StepRecord } from './idle-scale-figures';
import { LoadGenerator } from './load-generator';

export type ScaleTransport = Extract<Transport, 'websocket' | 'xhr-streaming'>;

export interface ScaleOptions {
  steps: number[];
  targets: TargetName[];
  transports: ScaleTransport[];
  heartbeatMs: number;
  windowMs: number;
  reps: number;
  /**
   * Whether each server, after the largest step, measures its CPU there again and then
   * closes sessions back down to every smaller step and measures it there again: a drift of
   * the machine's speed over the server's run then weighs alike on every step (stepsDownOf).
   */
  down: boolean;
}

/**
 * 5 s: five heartbeats per default period, and the same expiry tick as the default 25 s
 * (ours ticks every quarter of the shorter of heartbeat and disconnect delay, 5 s either
 * way), so only the heartbeats come more often.
 */
export const DEFAULT_HEARTBEAT_MS = 5000;
/** The default heartbeat period of every target, which the figures are scaled back to. */
export const DEFAULT_PERIOD_MS = 25_000;

/**
 * Node's options for every idle-scale server, whatever the target. V8's memory reducer
 * shrinks the heap once load drops: armed by the heap's growth on the way up, it waits for
 * the allocation rate to fall and then runs two or three full collections, 8 to 16 s after
 * the last one. On the way down that put them in the windows at the smallest step, forced
 * collections before the window or not (--trace-gc: `Mark-Compact (reduce)` 13.6 s after
 * them, in a window that began 5 s after them). It is a one-off answer to a drop, not a
 * cost of the sessions held: at a steady number of sessions it does not run again. In a
 * check with it off (websocket, ours-http and bare-ws) no window held a full collection,
 * and memory per session moved no more than between runs with it on.
 */
export const SERVER_FLAGS: readonly string[] = ['--no-memory-reducer'];

/**
 * The steps that fit under the open-file limit less SPARE_FILE_DESCRIPTORS, the largest
 * capped to it: the server and the load generator each hold a descriptor per session, and
 * the load generator is one process.
 */
export function capSteps(steps: readonly number[]): number[] {
  const limit = openFileLimit();
  if (limit === null) return [...steps];
  const cap = limit - SPARE_FILE_DESCRIPTORS;
  const capped = steps.filter((n) => n < cap);
  if (capped.length < steps.length) capped.push(cap);
  return capped;
}

/**
 * The steps measured again on the way back down, largest first: every one, the largest
 * with a second window straight after its first. With evenly spaced windows the mean of a
 * step's two then sits at the same moment of the server's run for every step, so that a
 * machine that slows or speeds up steadily over the run shifts every step alike and leaves
 * the slopes between them as they are.
 */
export function stepsDownOf(options: Pick<ScaleOptions, 'steps' | 'down'>): number[] {
  return options.down ? [...options.steps].reverse() : [];
}

/** The load the load generator runs: idle sessions, opened in steps. */
export function specOf(transport: ScaleTransport, steps: readonly number[]): ScenarioSpec {
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
 * The SockJS servers on both transports; the floors: bare ws on websockets, bare-http on
 * xhr-streaming (heartbeats from one shared timer, as bare ws pings). The other floors
 * (express-baseline, ws-minimum) send no heartbeats to measure.
 */
export function takesPart(target: TargetName, transport: ScaleTransport): boolean {
  const spec = TARGETS[target];
  if (!(transport === 'websocket' ? spec.serves.websocket : spec.serves.http)) return false;
  if (transport === 'websocket' ? target === 'bare-ws' : target === 'bare-http') return true;
  return spec.library || target === 'sockjs-node';
}

const delay = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));
const cpuMicros = (usage: CpuReply): number => usage.user + usage.system;
/** The main thread's CPU where the server reports it, else the whole process's. */
const threadMicros = (usage: CpuReply): number => usage.mainThread ?? cpuMicros(usage);

/**
 * The load generator's load for `durationMs`, with what it received: how the runner waits
 * on the sessions open and how it measures a window.
 */
export function loadFor(client: IpcPeer, durationMs: number): Promise<LoadResult> {
  return client.request<LoadResult>({ type: 'measure', durationMs }, durationMs + 30_000);
}

/** A CPU reading of the server, and when this process had it. */
interface CpuReading {
  usage: CpuReply;
  at: number;
}

async function readCpu(server: IpcPeer): Promise<CpuReading> {
  const usage = await server.request<CpuReply>({ type: 'cpu' }, 10_000);
  return { usage, at: performance.now() };
}

/**
 * Readings of the server's CPU every `periodMs` after `start`, `count` of them: with the
 * window's first and last readings, they cut the window into heartbeat periods.
 */
async function readingsBetween(
  start: Promise<CpuReading>,
  server: IpcPeer,
  periodMs: number,
  count: number,
): Promise<CpuReading[]> {
  const readings: CpuReading[] = [];
  let since = (await start).at;
  for (let i = 0; i < count; i++) {
    await delay(since + periodMs - performance.now());
    readings.push(await readCpu(server));
    since = readings[i].at;
  }
  return readings;
}

/**
 * The main thread's CPU in each period between consecutive readings, ms per second: a load
 * that does not change should read the same every period, and how far the periods stray is
 * what the window's figure carries.
 */
function cpuByPeriod(readings: readonly CpuReading[]): number[] {
  return readings
    .slice(1)
    .map(
      (reading, i) =>
        (threadMicros(reading.usage) - threadMicros(readings[i].usage)) / (reading.at - readings[i].at),
    );
}
type CollectionKey = 'majorCollections' | 'majorCollectionMs' | 'minorCollections' | 'minorCollectionMs';

/**
 * One CPU window at the sessions now open, into `record`, after `settleMs` of the same load:
 * the server's CPU over the window (with its main thread's by period, and the collections
 * in it), the heartbeats the load generator received, and what the rest of the machine ran.
 */
async function measureWindow(
  options: ScaleOptions,
  server: IpcPeer,
  client: IpcPeer,
  record: StepRecord,
  settleMs: number,
): Promise<void> {
  await loadFor(client, settleMs);
  const windowStart = readCpu(server);
  // The readings inside the window are awaited after it: a failed one must not end
  // the run before then.
  const inside = readingsBetween(
    windowStart,
    server,
    options.heartbeatMs,
    Math.floor(options.windowMs / options.heartbeatMs) - 1,
  ).catch(() => undefined);
  const machineBefore = machineBusyMicros();
  const window = await loadFor(client, options.windowMs);
  const end = await readCpu(server);
  const start = await windowStart;
  const between = await inside;
  if (between !== undefined) record.cpuByPeriod = cpuByPeriod([start, ...between, end]);
  const [cpuStart, cpuAfter] = [start.usage, end.usage];
  const serverMicros = cpuMicros(cpuAfter) - cpuMicros(cpuStart);
  if (cpuAfter.majorCollections !== undefined && cpuStart.majorCollections !== undefined) {
    const inWindow = (key: CollectionKey): number => (cpuAfter[key] ?? 0) - (cpuStart[key] ?? 0);
    record.majorCollections = inWindow('majorCollections');
    record.majorCollectionMs = inWindow('majorCollectionMs');
    record.minorCollections = inWindow('minorCollections');
    record.minorCollectionMs = inWindow('minorCollectionMs');
  }
  const machineAfter = machineBusyMicros();
  const seconds = window.elapsedMs / 1000;
  record.cpuMsPerSecond = serverMicros / 1000 / seconds;
  record.systemCpuMsPerSecond = (cpuAfter.system - cpuStart.system) / 1000 / seconds;
  if (cpuAfter.mainThread !== undefined && cpuStart.mainThread !== undefined)
    record.mainThreadCpuMsPerSecond = (cpuAfter.mainThread - cpuStart.mainThread) / 1000 / seconds;
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
}

/** One server through every step; a failed step ends the run, its figures kept. */
async function runSteps(
  options: ScaleOptions,
  transport: ScaleTransport,
  target: TargetName,
  rep: number,
  client: IpcPeer,
  serverPins: string[],
): Promise<StepRecord[]> {
  const records: StepRecord[] = [];
  const server = await startServer(
    target,
    serverPins,
    { BENCH_HEARTBEAT_MS: String(options.heartbeatMs) },
    SERVER_FLAGS,
  );
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
    const idle = await loadFor(client, options.heartbeatMs);
    const idleMicros =
      cpuMicros(await server.peer.request<CpuReply>({ type: 'cpu' }, 10_000)) - cpuMicros(await idleBefore);
    const baseCpuMsPerSecond = idleMicros / idle.elapsedMs;
    const stepUp = async (record: StepRecord): Promise<void> => {
      const { step } = record;
      const opened = await client.request<LoadResult>({ type: 'open-idle', sessions: step - open }, 600_000);
      open = opened.openSessions;
      record.sessions = open;
      if (open < step) throw new Error(`${open} of ${step} sessions open (${opened.errors} errors)`);
      // Handshake buffers freed and timers armed before the count, as in ws-idle-memory.
      await delay(1000);
      const after = await server.peer.request<MemoryReply>({ type: 'memory' }, 60_000);
      record.rssPerSession = (after.rss - after.young - (base.rss - base.young)) / open;
      record.heapPerSession = (after.heapUsed + after.external - base.heapUsed - base.external) / open;
      const perSession = (key: 'oldCommitted' | 'mallocArena' | 'oldFree'): number | undefined => {
        const [now, before] = [after[key], base[key]];
        return now === null || before === null ? undefined : (now - before) / open;
      };
      record.oldCommittedPerSession = perSession('oldCommitted');
      record.mallocArenaPerSession = perSession('mallocArena');
      record.oldFreePerSession = perSession('oldFree');
      record.rss = after.rss;
      record.baseRss = base.rss;
      // One whole period after the burst and the GC: every session has its heartbeat due.
      // The first step waits a window more: a fresh server's first window carried the
      // compiling and collecting of code paths that had only just begun to run (1,000
      // websocket sessions: 13.5 ms CPU/s in the first window, 6.7-8.7 in the next three,
      // bare ws alike), which made the smallest step dearer and the slope look as if it grew.
      const settleMs = options.heartbeatMs + (step === options.steps[0] ? options.windowMs : 0);
      await measureWindow(options, server.peer, client, record, settleMs);
    };
    const stepDown = async (record: StepRecord): Promise<void> => {
      const closed = await client.request<LoadResult>(
        { type: 'close-idle', sessions: open - record.step },
        60_000,
      );
      open = closed.openSessions;
      record.sessions = open;
      // One period for the server to end the sessions the load closed (an xhr session once
      // its disconnect delay has passed); then the memory reading's full collections take
      // what they left, as on the way up they take the opening burst's, and the window
      // follows one period later, as there. Without the collections a window on the way
      // down carried the collecting of the sessions closed before it: at 1,000 websocket
      // sessions after 18,000, a full collection and 5 ms of helper threads' CPU a second.
      // V8's memory reducer would still run its own there (SERVER_FLAGS).
      await loadFor(client, options.heartbeatMs);
      await server.peer.request<MemoryReply>({ type: 'memory' }, 60_000);
      await measureWindow(options, server.peer, client, record, options.heartbeatMs);
    };
    for (const [step, descending] of [
      ...options.steps.map((n) => [n, false] as const),
      ...stepsDownOf(options).map((n) => [n, true] as const),
    ]) {
      const record: StepRecord = { transport, target, rep, step, sessions: open, baseCpuMsPerSecond };
      if (descending) record.descending = true;
      records.push(record);
      try {
        await (descending ? stepDown : stepUp)(record);
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

const kib = (bytes: number | undefined): string => (bytes === undefined ? '?' : (bytes / 1024).toFixed(2));

function describe(record: StepRecord): string {
  const head = `${String(record.step).padStart(6)} sessions${record.descending ? ', on the way down' : ''}: `;
  if (record.error !== undefined) return head + `FAILED: ${record.error}`;
  const memory =
    record.descending === true
      ? ''
      : `${kib(record.rssPerSession)} KiB RSS (V8 old ${kib(record.oldCommittedPerSession)}, ` +
        `malloc ${kib(record.mallocArenaPerSession)}; ` +
        `${kib(record.oldFreePerSession)} free before compaction), ${kib(record.heapPerSession)} KiB heap /session; `;
  return (
    head +
    memory +
    `${(record.cpuMsPerSecond ?? NaN).toFixed(2)} ms CPU/s (main thread ${(record.mainThreadCpuMsPerSecond ?? NaN).toFixed(2)}, kernel ${(record.systemCpuMsPerSecond ?? NaN).toFixed(2)}), ${Math.round(record.heartbeatsPerSecond ?? 0)} heartbeats/s, ` +
    `GC ${record.majorCollections ?? '?'} full (${(record.majorCollectionMs ?? NaN).toFixed(0)} ms), ` +
    `${record.minorCollections ?? '?'} young (${(record.minorCollectionMs ?? NaN).toFixed(0)} ms), ` +
    `other CPU ${record.otherCpu === undefined ? '?' : Math.round(record.otherCpu * 100) + '%'}; ` +
    `by period ${record.cpuByPeriod?.map((v) => v.toFixed(1)).join(' ') ?? '?'} ms/s`
  );
}

/**
 * Every repetition, transport and target that takes part, each in a fresh server that
 * `runSteps` starts, with one load generator of its own (started here, replaced after a
 * failure, stopped at the end). A server that fails is `failed`'s record.
 */
export async function eachIdleServer<R>(
  options: { reps: number; transports: readonly ScaleTransport[]; targets: readonly TargetName[] },
  pins: { server: string[]; client: string[] },
  runSteps: (transport: ScaleTransport, target: TargetName, rep: number, client: IpcPeer) => Promise<R[]>,
  failed: (transport: ScaleTransport, target: TargetName, rep: number, message: string) => R,
): Promise<R[]> {
  const records: R[] = [];
  const generator = new LoadGenerator(pins.client);
  try {
    for (let rep = 0; rep < options.reps; rep++) {
      for (const transport of options.transports) {
        const targets = options.targets.filter((t) => takesPart(t, transport));
        // Alternating the order: slow drifts of the machine hit every target alike.
        for (const target of rep % 2 === 0 ? targets : [...targets].reverse()) {
          try {
            records.push(...(await runSteps(transport, target, rep, generator.get())));
          } catch (error) {
            const message = error instanceof Error ? error.message : String(error);
            console.log(`  rep ${rep + 1} ${transport} ${target}: FAILED: ${message}`);
            records.push(failed(transport, target, rep, message));
            await generator.restart();
          }
        }
      }
    }
  } finally {
    await generator.close();
  }
  return records;
}

/** The idle-scale measurement: every step of every server eachIdleServer() starts. */
export function measureIdleScale(
  options: ScaleOptions,
  pins: { server: string[]; client: string[] },
): Promise<StepRecord[]> {
  return eachIdleServer<StepRecord>(
    options,
    pins,
    (transport, target, rep, client) => runSteps(options, transport, target, rep, client, pins.server),
    (transport, target, rep, error) => ({
      transport,
      target,
      rep,
      step: options.steps[0],
      sessions: 0,
      error,
    }),
  );
}

/** What the report says of a run: when, how, and with which settings. */
export function scaleInfoOf(options: ScaleOptions, command: string, pinningText: string): ScaleInfo {
  return {
    date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    command,
    node: process.version,
    pinning: pinningText,
    steps: options.steps,
    stepsDown: stepsDownOf(options),
    serverFlags: [...SERVER_FLAGS],
    heartbeatMs: options.heartbeatMs,
    defaultPeriodMs: DEFAULT_PERIOD_MS,
    windowMs: options.windowMs,
    reps: options.reps,
    openFileLimit: openFileLimit(),
  };
}
