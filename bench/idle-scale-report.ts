/**
 * The idle-scale runner's results: per step and target, memory and heartbeat CPU per
 * session (medians over the repetitions), the ratios to sockjs-node and bare ws, whether
 * the cost per session stays constant as sessions grow, and the chart.
 */
import type { TargetName, Transport } from './scenarios';
import { fmt, fmtRatio, fmtSpread, pairedRatios, spread } from './stats';
import { PALETTE, type Chart, type Panel } from './svg-chart';
import { tableLines } from './markdown-table';

export interface ScaleInfo {
  date: string;
  command: string;
  node: string;
  pinning: string;
  steps: number[];
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

/**
 * Server CPU per heartbeat received, in µs: the window's CPU less what the process spent
 * with no session open, ÷ the heartbeats in the window.
 */
const cpuPerHeartbeat: Figure = (r) =>
  r.cpuMsPerSecond === undefined || !r.heartbeatsPerSecond
    ? undefined
    : ((r.cpuMsPerSecond - (r.baseCpuMsPerSecond ?? 0)) * 1000) / r.heartbeatsPerSecond;

/**
 * Server CPU per session per second at the default period: one heartbeat per session per
 * 25 s, each costing what one cost in the window. Per heartbeat received rather than per
 * period configured: servers batch heartbeats (ours on its clock's ticks), so a window
 * holds a whole number of batches, not of periods. Everything the sessions cost the server
 * in the window (the expiry sweep over them, their timers) is charged to the heartbeats:
 * an upper bound of what heartbeats alone cost.
 */
const cpuAtDefault: Figure = (r, info) => {
  const perHeartbeat = cpuPerHeartbeat(r, info);
  return perHeartbeat === undefined ? undefined : perHeartbeat / (info.defaultPeriodMs / 1000);
};

/**
 * A share of the window's CPU (ms per second), per session at the default period as
 * cpuAtDefault is, without the idle base: the parts serve the slopes, where it drops out.
 */
const cpuShareAtDefault =
  (share: (r: StepRecord) => number | undefined): Figure =>
  (r, info) => {
    const ms = share(r);
    return ms === undefined || !r.heartbeatsPerSecond
      ? undefined
      : (ms * 1000) / r.heartbeatsPerSecond / (info.defaultPeriodMs / 1000);
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
  cpu: { title: 'heartbeat CPU per session at 25 s', unit: 'µs/s', value: cpuAtDefault, scale: 1 },
  cpuMainThread: {
    title: "the main thread's heartbeat CPU per session at 25 s",
    unit: 'µs/s',
    value: cpuShareAtDefault((r) => r.mainThreadCpuMsPerSecond),
    scale: 1,
  },
  cpuKernel: {
    title: "the kernel's heartbeat CPU per session at 25 s",
    unit: 'µs/s',
    value: cpuShareAtDefault((r) => r.systemCpuMsPerSecond),
    scale: 1,
  },
  cpuHelpers: {
    title: "helper threads' heartbeat CPU per session at 25 s",
    unit: 'µs/s',
    value: cpuShareAtDefault(helperCpu),
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

/** The parts RSS per session is split into, in the order the report lists them. */
const RSS_PARTS = ['oldCommitted', 'mallocArena', 'otherResident'] as const;
/** The parts of the heartbeat CPU the report lists: by thread, and the kernel's across them. */
const CPU_PARTS = ['cpuMainThread', 'cpuKernel', 'cpuHelpers'] as const;

function valuesOf(
  records: readonly StepRecord[],
  info: ScaleInfo,
  transport: Transport,
  target: TargetName,
  step: number,
  figure: Figure,
): (number | null)[] {
  const values: (number | null)[] = new Array<number | null>(info.reps).fill(null);
  for (const r of records) {
    if (r.transport !== transport || r.target !== target || r.step !== step || r.error !== undefined)
      continue;
    values[r.rep] = figure(r, info) ?? null;
  }
  return values;
}

export function targetsOf(records: readonly StepRecord[], transport: Transport): TargetName[] {
  return [...new Set(records.filter((r) => r.transport === transport).map((r) => r.target))];
}

export function transportsOf(records: readonly StepRecord[]): Transport[] {
  return [...new Set(records.map((r) => r.transport))];
}

export function markdownOf(info: ScaleInfo, records: readonly StepRecord[], chartFile: string): string {
  const out: string[] = [
    '# Idle sessions as their number grows',
    '',
    `${info.date}, \`${info.command}\`, Node ${info.node}, ${info.pinning}, open-file limit ` +
      `${info.openFileLimit ?? 'unknown'}. Steps ${info.steps.map(fmt).join(', ')} in one server per ` +
      `target, ${info.reps} repetition(s). Heartbeat every ${info.heartbeatMs} ms during the run; the CPU ` +
      `figure per session is scaled back to the default ${info.defaultPeriodMs / 1000} s period: ` +
      `the window's CPU, less the same server's with no session open (base CPU), per heartbeat ` +
      `received, ÷ ${info.defaultPeriodMs / 1000} s. Each window of ${info.windowMs / 1000} s starts one ` +
      'heartbeat period after its sessions opened; at the first step a window later, once the ' +
      'server has warmed up. Other CPU above ' +
      '10-15% (the rest of the machine) means disturbed figures.',
    '',
    `![idle sessions as their number grows](${chartFile})`,
  ];
  for (const transport of transportsOf(records)) {
    const targets = targetsOf(records, transport);
    const references = (['sockjs-node', 'bare-ws', 'bare-http'] as const).filter((t) => targets.includes(t));
    out.push('', `## ${transport}`, '');
    const rows: string[][] = [];
    for (const target of targets) {
      for (const step of info.steps) {
        const mine = (key: keyof typeof FIGURES): (number | null)[] =>
          valuesOf(records, info, transport, target, step, FIGURES[key].value);
        const errors = records.filter(
          (r) => r.transport === transport && r.target === target && r.step === step && r.error !== undefined,
        );
        const cpuMs = valuesOf(records, info, transport, target, step, (r) => r.cpuMsPerSecond);
        const beats = valuesOf(records, info, transport, target, step, (r) => r.heartbeatsPerSecond);
        const other = valuesOf(records, info, transport, target, step, (r) => r.otherCpu);
        const row = [
          target,
          fmt(step),
          fmtSpread(spread(mine('rss')), (v) => fmt(v / 1024)),
          fmtSpread(spread(mine('heap')), (v) => fmt(v / 1024)),
          fmtSpread(spread(cpuMs)),
          fmtSpread(spread(beats)),
          fmtSpread(spread(valuesOf(records, info, transport, target, step, cpuPerHeartbeat))),
          fmtSpread(spread(mine('cpu'))),
          fmtSpread(spread(other), (v) => `${Math.round(v * 100)}%`),
          collectionsText(records, info, transport, target, step, 'major'),
          collectionsText(records, info, transport, target, step, 'minor'),
        ];
        for (const reference of references) {
          const theirs = (key: keyof typeof FIGURES): (number | null)[] =>
            valuesOf(records, info, transport, reference, step, FIGURES[key].value);
          row.push(
            target === reference ? '' : fmtRatio(pairedRatios(mine('rss'), theirs('rss'))),
            target === reference ? '' : fmtRatio(pairedRatios(mine('cpu'), theirs('cpu'))),
          );
        }
        row.push(errors.length === 0 ? '' : errors.map((r) => r.error).join('; '));
        rows.push(row);
      }
    }
    out.push(
      ...tableLines(
        [
          'target',
          'sessions',
          'RSS KiB / session',
          'heap KiB / session',
          `CPU ms / s at ${info.heartbeatMs / 1000} s`,
          'heartbeats / s',
          'CPU µs / heartbeat',
          'CPU µs / s / session at 25 s',
          'other CPU',
          'full GCs in window (ms)',
          'young GCs in window (ms)',
          ...references.flatMap((r) => [`RSS ÷ ${r}`, `CPU ÷ ${r}`]),
          'failed',
        ],
        rows,
      ),
    );
    out.push('', `### ${transport}: is the cost per session constant?`, '');
    out.push(
      `Largest step ÷ smallest step, per session (medians); within ${CONSTANT_SLOPE * 100}% reads as constant.`,
      '',
    );
    const slopeRows: string[][] = targets.map((target) => [
      target,
      ...(['rss', 'heap', 'cpu'] as const).map((key) => slopeText({ records, info, transport, target, key })),
      fmtSpread(spread(valuesOf(records, info, transport, target, info.steps[0], (r) => r.baseRss)), (v) =>
        fmt(v / 1024 / 1024),
      ),
      fmtSpread(
        spread(valuesOf(records, info, transport, target, info.steps[0], (r) => r.baseCpuMsPerSecond)),
      ),
    ]);
    out.push(...tableLines(['target', 'RSS', 'heap', 'CPU', 'base RSS MiB', 'base CPU ms / s'], slopeRows));
    out.push('', `### ${transport}: the slope, what one more session adds`, '');
    out.push(
      'The cost added per session between two steps (the difference of the totals ÷ the ' +
        'difference of the sessions; for CPU, of the heartbeats received): fixed costs drop out, ' +
        'which the figures per session above still carry at the small steps. From the smallest ' +
        `step to the middle one, and from there to the largest; within ${CONSTANT_SLOPE * 100}% ` +
        'of each other reads as constant.',
      '',
    );
    out.push(
      ...tableLines(
        ['target', 'RSS', 'heap', 'CPU'],
        targets.map((target) => [
          target,
          ...(['rss', 'heap', 'cpu'] as const).map((key) =>
            marginalText({ records, info, transport, target, key }),
          ),
        ]),
      ),
    );
    if (records.some((r) => r.transport === transport && r.mallocArenaPerSession !== undefined)) {
      out.push('', `### ${transport}: where the RSS one more session adds lies`, '');
      out.push(
        "The RSS slope above, split: V8's heap outside the young generation (the used heap of the " +
          "heap column and what compaction leaves free), the main thread's malloc arena (the `[heap]` " +
          'mapping: native objects per socket, and what the allocator keeps after frees), and the ' +
          'rest (other mappings: thread arenas, large allocations, code). Each reading follows a ' +
          'compacting collection; the last column is what the ordinary full collections before it ' +
          'had left free between live objects, which RSS would hold without it.',
        '',
      );
      out.push(
        ...tableLines(
          ['target', 'RSS', 'V8 old generation', 'main malloc arena', 'rest', 'free before compaction'],
          targets.map((target) => [
            target,
            marginalText({ records, info, transport, target, key: 'rss' }),
            ...([...RSS_PARTS, 'oldFree'] as const).map((key) =>
              marginalText({ records, info, transport, target, key }, false),
            ),
          ]),
        ),
      );
    }
    if (records.some((r) => r.transport === transport && r.mainThreadCpuMsPerSecond !== undefined)) {
      out.push('', `### ${transport}: where the heartbeat CPU one more session adds goes`, '');
      out.push(
        'The CPU slope above, split by thread: the main thread (the JavaScript and its system ' +
          "calls, from the kernel's scheduler statistics of that thread) and the helper threads " +
          "(V8's concurrent marking, sweeping and compiling, libuv's pool), which run when V8 " +
          "decides; beside them the kernel's share of both (system time), which on loopback " +
          "includes delivering each write to the client's socket.",
        '',
      );
      out.push(
        ...tableLines(
          ['target', 'CPU', 'main thread', 'of the CPU, in the kernel', 'helper threads'],
          targets.map((target) => [
            target,
            marginalText({ records, info, transport, target, key: 'cpu' }),
            marginalText({ records, info, transport, target, key: 'cpuMainThread' }),
            ...(['cpuKernel', 'cpuHelpers'] as const).map((key) =>
              marginalText({ records, info, transport, target, key }, false),
            ),
          ]),
        ),
      );
    }
  }
  return out.join('\n') + '\n';
}

/**
 * The collections of the CPU window, each repetition's count with the main thread's pauses
 * in them: a window that caught a full collection of a large heap reads dearer than one
 * that did not.
 */
function collectionsText(
  records: readonly StepRecord[],
  info: ScaleInfo,
  transport: Transport,
  target: TargetName,
  step: number,
  kind: 'major' | 'minor',
): string {
  const counts = valuesOf(records, info, transport, target, step, (r) =>
    kind === 'major' ? r.majorCollections : r.minorCollections,
  );
  const ms = valuesOf(records, info, transport, target, step, (r) =>
    kind === 'major' ? r.majorCollectionMs : r.minorCollectionMs,
  );
  const parts = counts.flatMap((count, rep) =>
    count === null ? [] : [`${count} (${Math.round(ms[rep] ?? 0)})`],
  );
  return parts.length === 0 ? '–' : parts.join(', ');
}

/** One figure of one target over the steps of a run. */
export interface FigureSeries {
  records: readonly StepRecord[];
  info: ScaleInfo;
  transport: Transport;
  target: TargetName;
  key: FigureKey;
}

/** First and last step that completed, and whether the figure stayed within CONSTANT_SLOPE. */
function slopeText({ records, info, transport, target, key }: FigureSeries): string {
  const medians = info.steps
    .map((step) => ({
      step,
      value: spread(valuesOf(records, info, transport, target, step, FIGURES[key].value)),
    }))
    .filter((p) => p.value.n > 0);
  if (medians.length < 2) return '–';
  const first = medians[0];
  const last = medians[medians.length - 1];
  const ratio = last.value.median / first.value.median;
  const verdict = slopeVerdict(ratio);
  const f = (v: number): string => fmt(v * FIGURES[key].scale);
  return (
    `${f(first.value.median)} at ${fmt(first.step)} → ${f(last.value.median)} at ${fmt(last.step)} ` +
    `${FIGURES[key].unit}: ${ratio.toFixed(2)}x, ${verdict}`
  );
}

/**
 * What a figure per session means in total at a step: bytes over the base for memory, CPU
 * per second over the base (scaled to the default period) for heartbeats; and what it is
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
      const totals = records
        .filter(
          (r) => r.transport === transport && r.target === target && r.step === step && r.error === undefined,
        )
        .map((r) => totalAt(r, info, key))
        .filter((t): t is { total: number; count: number } => t !== null);
      if (totals.length === 0) return null;
      return {
        step,
        total: spread(totals.map((t) => t.total)).median,
        count: spread(totals.map((t) => t.count)).median,
      };
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

/**
 * The two slopes of a figure, and their ratio with its verdict unless `withVerdict` is
 * false: for the parts of RSS, small amounts on either side of zero, where a ratio says
 * nothing.
 */
function marginalText(series: FigureSeries, withVerdict = true): string {
  const slopes = marginalSlopes(series);
  if (slopes === null) return '–';
  const { first, last, ratio, steps } = slopes;
  const figure = FIGURES[series.key];
  const f = (v: number): string => fmt(v * figure.scale);
  const span = (a: number, b: number): string => `${fmt(a)}→${fmt(b)}`;
  const values = `${f(first)} (${span(steps[0], steps[1])}) → ${f(last)} (${span(steps[1], steps[2])}) ${figure.unit}`;
  return withVerdict ? `${values}: ${ratio.toFixed(2)}x, ${slopeVerdict(ratio)}` : values;
}

/** Sessions on the x axis; per transport, bytes per session and CPU per session on y. */
export function chartOf(info: ScaleInfo, records: readonly StepRecord[]): Chart {
  const allTargets = [...new Set(records.map((r) => r.target))];
  const colorOf = (target: TargetName): string => PALETTE[allTargets.indexOf(target) % PALETTE.length];
  const panels: Panel[] = [];
  for (const transport of transportsOf(records)) {
    for (const key of ['rss', 'heap', 'cpu'] as const) {
      const figure = FIGURES[key];
      panels.push({
        title: `${transport}: ${figure.title}`,
        yLabel: figure.unit,
        series: targetsOf(records, transport).map((target) => ({
          label: target,
          color: colorOf(target),
          points: info.steps
            .map((step) => ({
              x: step,
              y: spread(valuesOf(records, info, transport, target, step, figure.value)).median * figure.scale,
            }))
            .filter((p) => Number.isFinite(p.y)),
        })),
      });
    }
  }
  return {
    title: `Idle sessions: cost per session as sessions grow (${info.date})`,
    xLabel: 'idle sessions in one server process',
    xTicks: info.steps,
    panels,
    columns: 3,
  };
}
