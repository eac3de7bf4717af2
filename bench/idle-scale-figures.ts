/**
 * The idle-scale figures: what each step of each server recorded, the figures per session
 * drawn from it, and the cost one more session adds between steps (the slopes), for the
 * report, the chart and the goals.
 */
import type { TargetName, Transport } from './scenarios';
import { spread } from './stats';

export interface ScaleInfo {
  date: string;
  command: string;
  node: string;
  pinning: string;
  steps: number[];
  /** The steps measured again after the largest's first window, on the way back down (runs before: none). */
  stepsDown?: number[];
  /** Node's options every server ran with beyond --expose-gc (runs before: none). */
  serverFlags?: string[];
  heartbeatMs: number;
  /** The targets' default heartbeat period, which the CPU figures are scaled back to. */
  defaultPeriodMs: number;
  windowMs: number;
  reps: number;
  openFileLimit: number | null;
}

/** One step of one server: its sessions open, then memory after a full GC, then a CPU window. */
export interface StepRecord {
  transport: Transport;
  target: TargetName;
  rep: number;
  /** Sessions the step asked for, and those open. */
  step: number;
  sessions: number;
  /**
   * Measured on the way back down, after the largest step's first window: the CPU window
   * only (the memory of sessions closed is not given back at once, so per session it would
   * say nothing).
   */
  descending?: true;
  error?: string;
  /** Bytes per session over the server before the first step: RSS less the young generation. */
  rssPerSession?: number;
  /** heapUsed + external per session. */
  heapPerSession?: number;
  /** Where the RSS per session lies: V8's heap outside the young generation, committed... */
  oldCommittedPerSession?: number;
  /** ...and the main thread's malloc arena; the rest is RSS less both. */
  mallocArenaPerSession?: number;
  /** Free in V8's old generation before the compacting collection: not in the RSS figure. */
  oldFreePerSession?: number;
  rss?: number;
  /** RSS of the server before the first step (listening, warmed up, no session open). */
  baseRss?: number;
  /** Server CPU over the window, in milliseconds per second, at the shortened heartbeat. */
  cpuMsPerSecond?: number;
  /** Of it, the kernel's (system time): on loopback it carries the delivery to the client's socket. */
  systemCpuMsPerSecond?: number;
  /** Of it, the main thread's (user and kernel): the rest is V8's and libuv's helper threads. */
  mainThreadCpuMsPerSecond?: number;
  /**
   * The main thread's CPU (the process's where there is no such reading) in each heartbeat
   * period of the window, ms per second: how steady one load's cost read within a window.
   */
  cpuByPeriod?: number[];
  /** The same server's CPU with no session open, before the first step. */
  baseCpuMsPerSecond?: number;
  /** Heartbeats the load generator received per second: proof that they flowed. */
  heartbeatsPerSecond?: number;
  /** Full and young collections in the window, and the main thread's pauses in them (ms). */
  majorCollections?: number;
  majorCollectionMs?: number;
  minorCollections?: number;
  minorCollectionMs?: number;
  /** Sessions the server closed during the window. */
  closedInWindow?: number;
  otherCpu?: number;
}

/** One idle-scale run: its settings and every step of every server. */
export interface IdleScaleRun {
  info: ScaleInfo;
  records: readonly StepRecord[];
}

/** The cost per session at the largest step within this share of the smallest: constant. */
export const CONSTANT_SLOPE = 0.1;

export type FigureKey =
  | 'rss'
  | 'heap'
  | 'cpu'
  | 'cpuMainThread'
  | 'cpuKernel'
  | 'cpuHelpers'
  | 'oldCommitted'
  | 'mallocArena'
  | 'otherResident'
  | 'oldFree';

type Figure = (record: StepRecord, info: ScaleInfo) => number | undefined;

/** A share of the window's CPU (ms per second) as µs per heartbeat received. */
const perHeartbeat =
  (share: (r: StepRecord) => number | undefined): Figure =>
  (r) => {
    const ms = share(r);
    return ms === undefined || !r.heartbeatsPerSecond ? undefined : (ms * 1000) / r.heartbeatsPerSecond;
  };

/**
 * Server CPU per heartbeat received, in µs: the window's CPU less what the process spent
 * with no session open, ÷ the heartbeats in the window. Its parts (by thread, the kernel's)
 * keep the idle base: they serve the slopes, where it drops out.
 */
export const cpuPerHeartbeat: Figure = perHeartbeat((r) =>
  r.cpuMsPerSecond === undefined ? undefined : r.cpuMsPerSecond - (r.baseCpuMsPerSecond ?? 0),
);

/**
 * A figure per heartbeat as per session per second at the default period: one heartbeat per
 * session per 25 s, each costing what one cost in the window. Per heartbeat received rather
 * than per period configured: servers batch heartbeats (ours on its clock's ticks), so a
 * window holds a whole number of batches, not of periods. Everything the sessions cost the
 * server in the window (the expiry sweep over them, their timers) is charged to the
 * heartbeats: an upper bound of what heartbeats alone cost.
 */
const atDefault =
  (figure: Figure): Figure =>
  (r, info) => {
    const value = figure(r, info);
    return value === undefined ? undefined : value / (info.defaultPeriodMs / 1000);
  };

/** The CPU of the threads other than the main one: V8's helpers (marking, sweeping, compiling), libuv's pool. */
const helperCpu = (r: StepRecord): number | undefined =>
  r.cpuMsPerSecond === undefined || r.mainThreadCpuMsPerSecond === undefined
    ? undefined
    : r.cpuMsPerSecond - r.mainThreadCpuMsPerSecond;

/** The figures per session each step gives, with their titles and units. */
export const FIGURES: Record<FigureKey, { title: string; unit: string; value: Figure; scale: number }> = {
  rss: { title: 'RSS per session', unit: 'KiB', value: (r) => r.rssPerSession, scale: 1 / 1024 },
  heap: {
    title: 'heap + external per session',
    unit: 'KiB',
    value: (r) => r.heapPerSession,
    scale: 1 / 1024,
  },
  cpu: {
    title: 'heartbeat CPU per session at 25 s',
    unit: 'µs/s',
    value: atDefault(cpuPerHeartbeat),
    scale: 1,
  },
  cpuMainThread: {
    title: "the main thread's heartbeat CPU per session at 25 s",
    unit: 'µs/s',
    value: atDefault(perHeartbeat((r) => r.mainThreadCpuMsPerSecond)),
    scale: 1,
  },
  cpuKernel: {
    title: "the kernel's heartbeat CPU per session at 25 s",
    unit: 'µs/s',
    value: atDefault(perHeartbeat((r) => r.systemCpuMsPerSecond)),
    scale: 1,
  },
  cpuHelpers: {
    title: "helper threads' heartbeat CPU per session at 25 s",
    unit: 'µs/s',
    value: atDefault(perHeartbeat(helperCpu)),
    scale: 1,
  },
  oldCommitted: {
    title: "V8's old generation, committed, per session",
    unit: 'KiB',
    value: (r) => r.oldCommittedPerSession,
    scale: 1 / 1024,
  },
  mallocArena: {
    title: 'main malloc arena per session',
    unit: 'KiB',
    value: (r) => r.mallocArenaPerSession,
    scale: 1 / 1024,
  },
  otherResident: {
    title: 'rest of RSS per session',
    unit: 'KiB',
    value: (r) =>
      r.rssPerSession === undefined ||
      r.oldCommittedPerSession === undefined ||
      r.mallocArenaPerSession === undefined
        ? undefined
        : r.rssPerSession - r.oldCommittedPerSession - r.mallocArenaPerSession,
    scale: 1 / 1024,
  },
  oldFree: {
    title: "free in V8's old generation before compaction, per session",
    unit: 'KiB',
    value: (r) => r.oldFreePerSession,
    scale: 1 / 1024,
  },
};

/** The parts of the heartbeat CPU, counted like it per heartbeat: by thread, and the kernel's across them. */
const CPU_PARTS = ['cpuMainThread', 'cpuKernel', 'cpuHelpers'] as const;

/** The windows of one target at one step that completed, in the order they were measured. */
export function recordsAt(
  records: readonly StepRecord[],
  transport: Transport,
  target: TargetName,
  step: number,
): StepRecord[] {
  return records.filter(
    (r) => r.transport === transport && r.target === target && r.step === step && r.error === undefined,
  );
}

/**
 * A figure of one target at one step, per repetition (null where it has none). A repetition
 * that measured the step twice, on the way up and back down, gives the mean of the two: the
 * CPU figures, which both windows have; the memory figures come from the way up alone.
 */
export function valuesOf(
  records: readonly StepRecord[],
  info: ScaleInfo,
  transport: Transport,
  target: TargetName,
  step: number,
  figure: Figure,
): (number | null)[] {
  const sums = new Array<number>(info.reps).fill(0);
  const counts = new Array<number>(info.reps).fill(0);
  for (const r of recordsAt(records, transport, target, step)) {
    const value = figure(r, info);
    if (value === undefined) continue;
    sums[r.rep] += value;
    counts[r.rep]++;
  }
  return sums.map((sum, rep) => (counts[rep] === 0 ? null : sum / counts[rep]));
}

/** One CPU window of a server's run: the step, and whether on the way back down. */
export interface ScaleWindow {
  step: number;
  descending: boolean;
}

/** A server's windows in the order it measured them: up the steps, then back down. */
export function windowsOf(info: ScaleInfo): ScaleWindow[] {
  return [
    ...info.steps.map((step) => ({ step, descending: false })),
    ...(info.stepsDown ?? []).map((step) => ({ step, descending: true })),
  ];
}

export function isWindow(r: StepRecord, window: ScaleWindow): boolean {
  return r.step === window.step && (r.descending === true) === window.descending;
}

export function targetsOf(records: readonly StepRecord[], transport: Transport): TargetName[] {
  return [...new Set(records.filter((r) => r.transport === transport).map((r) => r.target))];
}

export function transportsOf(records: readonly StepRecord[]): Transport[] {
  return [...new Set(records.map((r) => r.transport))];
}

/** One figure of one target over the steps of a run. */
export interface FigureSeries {
  records: readonly StepRecord[];
  info: ScaleInfo;
  transport: Transport;
  target: TargetName;
  key: FigureKey;
}

/**
 * What a figure per session means in total at a step: bytes over the base for memory; for
 * heartbeats, CPU per second scaled to the default period (the whole less the idle base,
 * its parts as read: a base the same at every step drops out of a slope); and what it is
 * counted against (sessions, or heartbeats received a second).
 */
function totalAt(
  r: StepRecord,
  info: ScaleInfo,
  key: keyof typeof FIGURES,
): { total: number; count: number } | null {
  if (key === 'cpu' || (CPU_PARTS as readonly FigureKey[]).includes(key)) {
    // Per heartbeat at the default period times the heartbeats: the window's CPU as a total.
    const perHeartbeat = FIGURES[key].value(r, info);
    if (perHeartbeat === undefined || !r.heartbeatsPerSecond) return null;
    return { total: perHeartbeat * r.heartbeatsPerSecond, count: r.heartbeatsPerSecond };
  }
  const perSession = FIGURES[key].value(r, info);
  return perSession === undefined ? null : { total: perSession * r.sessions, count: r.sessions };
}

/** What one more session adds over the first half of the steps and over the last half. */
export interface Slopes {
  first: number;
  last: number;
  /** last ÷ first: within CONSTANT_SLOPE of 1, the slope is constant. */
  ratio: number;
  /** The steps the halves run between: smallest, middle, largest (of those that completed). */
  steps: [number, number, number];
}

/** Whether a ratio of two costs per session reads as constant, or which way it goes. */
export function slopeVerdict(ratio: number): 'constant' | 'grows' | 'falls' {
  return Math.abs(ratio - 1) <= CONSTANT_SLOPE ? 'constant' : ratio > 1 ? 'grows' : 'falls';
}

/** The cost one more session adds, over the first interval of steps and over the last. */
export function marginalSlopes({ records, info, transport, target, key }: FigureSeries): Slopes | null {
  const points = info.steps
    .map((step) => {
      const per = (part: 'total' | 'count'): number[] =>
        valuesOf(records, info, transport, target, step, (r) => totalAt(r, info, key)?.[part]).filter(
          (v): v is number => v !== null,
        );
      const [totals, counts] = [per('total'), per('count')];
      return totals.length === 0
        ? null
        : { step, total: spread(totals).median, count: spread(counts).median };
    })
    .filter((p): p is { step: number; total: number; count: number } => p !== null);
  if (points.length < 3) return null;
  const slope = (a: (typeof points)[number], b: (typeof points)[number]): number =>
    (b.total - a.total) / (b.count - a.count);
  // Two halves of the range, smallest step to the middle one and on to the largest: wide
  // enough apart that the window-to-window spread of the CPU figure does not swamp them.
  const n = points.length;
  const middle = Math.floor(n / 2);
  const first = slope(points[0], points[middle]);
  const last = slope(points[middle], points[n - 1]);
  return {
    first,
    last,
    ratio: last / first,
    steps: [points[0].step, points[middle].step, points[n - 1].step],
  };
}
