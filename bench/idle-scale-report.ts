/**
 * The idle-scale runner's results: per step and target, memory and heartbeat CPU per
 * session (medians over the repetitions), the ratios to sockjs-node and bare ws, whether
 * the cost per session stays constant as sessions grow, and the chart.
 */
import type { TargetName, Transport } from './scenarios';
import { fmt, fmtRatio, fmtSpread, pairedRatios, spread } from './stats';
import {
  CONSTANT_SLOPE,
  FIGURES,
  cpuPerHeartbeat,
  marginalSlopes,
  slopeVerdict,
  targetsOf,
  transportsOf,
  valuesOf,
  windowsOf,
  isWindow,
  recordsAt,
  type FigureKey,
  type FigureSeries,
  type ScaleInfo,
  type StepRecord,
} from './idle-scale-figures';
import { PALETTE, type Chart, type Panel } from './svg-chart';
import { tableLines } from './markdown-table';

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
      'server has warmed up. ' +
      (info.stepsDown === undefined || info.stepsDown.length === 0
        ? ''
        : 'After its first window at the largest step each server measures a second one there, ' +
          `then closes sessions back down to ${info.stepsDown.slice(1).map(fmt).join(', then ')} and measures ` +
          'a window at each, every one after a period, the collections of a memory reading and a period ' +
          'more: each step has two windows, whose mean ' +
          "gives every CPU figure (the memory figures are the way up's), and the mean sits at the same " +
          "moment of a server's run for every step, which evens out a steady drift of the machine's speed. ") +
      (info.serverFlags === undefined || info.serverFlags.length === 0
        ? ''
        : `Every server ran with ${info.serverFlags.map((flag) => '`' + flag + '`').join(' ')} ` +
          '(bench/README.md says why). ') +
      'Other CPU above ' +
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
    out.push(...directionLines(records, info, transport, targets));
    out.push(...periodLines(records, info, transport, targets));
    for (const split of SPLITS) {
      if (records.some((r) => r.transport === transport && split.measured(r)))
        out.push(...splitLines(split, { records, info, transport, targets }));
    }
  }
  return out.join('\n') + '\n';
}

/** A slope the report splits into its parts: the figures judged, and the parts beside them. */
interface Split {
  title: string;
  intro: string;
  /** Whether a step recorded the parts (older runs did not). */
  measured: (r: StepRecord) => boolean;
  /** Given with their verdict. */
  judged: readonly (readonly [string, FigureKey])[];
  /** Given without: small amounts on either side of zero, where a ratio says nothing. */
  parts: readonly (readonly [string, FigureKey])[];
}

const SPLITS: readonly Split[] = [
  {
    title: 'where the RSS one more session adds lies',
    intro:
      "The RSS slope above, split: V8's heap outside the young generation (the used heap of the " +
      "heap column and what compaction leaves free), the main thread's malloc arena (the `[heap]` " +
      'mapping: native objects per socket, and what the allocator keeps after frees), and the ' +
      'rest (other mappings: thread arenas, large allocations, code). Each reading follows a ' +
      'compacting collection; the last column is what the ordinary full collections before it ' +
      'had left free between live objects, which RSS would hold without it.',
    measured: (r) => r.mallocArenaPerSession !== undefined,
    judged: [['RSS', 'rss']],
    parts: [
      ['V8 old generation', 'oldCommitted'],
      ['main malloc arena', 'mallocArena'],
      ['rest', 'otherResident'],
      ['free before compaction', 'oldFree'],
    ],
  },
  {
    title: 'where the heartbeat CPU one more session adds goes',
    intro:
      'The CPU slope above, split by thread: the main thread (the JavaScript and its system ' +
      "calls, from the kernel's scheduler statistics of that thread) and the helper threads " +
      "(V8's concurrent marking, sweeping and compiling, libuv's pool), which run when V8 " +
      "decides; beside them the kernel's share of both (system time), which on loopback " +
      "includes delivering each write to the client's socket.",
    measured: (r) => r.mainThreadCpuMsPerSecond !== undefined,
    judged: [
      ['CPU', 'cpu'],
      ['main thread', 'cpuMainThread'],
    ],
    parts: [
      ['of the CPU, in the kernel', 'cpuKernel'],
      ['helper threads', 'cpuHelpers'],
    ],
  },
];

/** One split of a transport's slope, one row per target. */
function splitLines(
  split: Split,
  {
    records,
    info,
    transport,
    targets,
  }: {
    records: readonly StepRecord[];
    info: ScaleInfo;
    transport: Transport;
    targets: readonly TargetName[];
  },
): string[] {
  const rows = targets.map((target) => [
    target,
    ...split.judged.map(([, key]) => marginalText({ records, info, transport, target, key })),
    ...split.parts.map(([, key]) => marginalText({ records, info, transport, target, key }, false)),
  ]);
  return [
    '',
    `### ${transport}: ${split.title}`,
    '',
    split.intro,
    '',
    ...tableLines(['target', ...[...split.judged, ...split.parts].map(([name]) => name)], rows),
  ];
}

/**
 * The CPU slope from the windows on the way up alone, from those on the way down alone, and
 * from both (the figure judged): how far the two ways agree shows what the mean evens out.
 */
function directionLines(
  records: readonly StepRecord[],
  info: ScaleInfo,
  transport: Transport,
  targets: readonly TargetName[],
): string[] {
  if (!records.some((r) => r.transport === transport && r.descending === true)) return [];
  const ways: [string, readonly StepRecord[]][] = [
    ['up', records.filter((r) => r.descending !== true)],
    ['down', records.filter((r) => r.descending === true)],
    ['both', records],
  ];
  return [
    '',
    `### ${transport}: the CPU slope on the way up, on the way down, and both`,
    '',
    'The heartbeat CPU slope above from the windows on the way up alone, from those on the way ' +
      'down alone, and from both: a window on the way up follows the opening of its sessions, ' +
      'one on the way down the closing of others, each by a period, full collections and a ' +
      "period, and they lie at different moments of the server's run.",
    '',
    ...tableLines(
      ['target', ...ways.map(([name]) => name)],
      targets.map((target) => [
        target,
        ...ways.map(([, chosen]) => marginalText({ records: chosen, info, transport, target, key: 'cpu' })),
      ]),
    ),
  ];
}

/**
 * Each window's CPU period by period, one repetition per column: the sessions and their
 * heartbeats are the same in every period of a window, so what moves between the periods
 * is the machine's doing, and that spread is what a window's figure carries into a slope.
 */
function periodLines(
  records: readonly StepRecord[],
  info: ScaleInfo,
  transport: Transport,
  targets: readonly TargetName[],
): string[] {
  if (!records.some((r) => r.transport === transport && r.cpuByPeriod !== undefined)) return [];
  const reps = Array.from({ length: info.reps }, (_, rep) => rep);
  const rows: string[][] = [];
  for (const target of targets) {
    for (const window of windowsOf(info)) {
      const windowOf = (rep: number): StepRecord | undefined =>
        records.find(
          (r) => r.transport === transport && r.target === target && r.rep === rep && isWindow(r, window),
        );
      rows.push([
        target,
        fmt(window.step) + (window.descending ? ', on the way down' : ''),
        ...reps.map(
          (rep) =>
            windowOf(rep)
              ?.cpuByPeriod?.map((v) => fmt(v))
              .join(', ') ?? '–',
        ),
      ]);
    }
  }
  return [
    '',
    `### ${transport}: each CPU window, period by period`,
    '',
    "The main thread's CPU in each heartbeat period of each window, ms per second (the " +
      "process's where the server gives no reading of its main thread), one repetition per " +
      'column. Every period of a window holds one heartbeat of every session (give or take a ' +
      'batch its edge cut) and nothing else changes, so what moves between them is the ' +
      'machine, and a window carries it into the slopes above.',
    '',
    ...tableLines(['target', 'sessions', ...reps.map((rep) => `rep ${rep + 1}`)], rows),
  ];
}

/**
 * The collections of the CPU window, each repetition's count with the main thread's pauses
 * in them (a step measured twice: up / down): a window that caught a full collection of a
 * large heap reads dearer than one that did not.
 */
function collectionsText(
  records: readonly StepRecord[],
  info: ScaleInfo,
  transport: Transport,
  target: TargetName,
  step: number,
  kind: 'major' | 'minor',
): string {
  const parts = Array.from({ length: info.reps }, (_, rep) =>
    recordsAt(records, transport, target, step)
      .filter((r) => r.rep === rep)
      .flatMap((r) => {
        const [count, ms] =
          kind === 'major'
            ? [r.majorCollections, r.majorCollectionMs]
            : [r.minorCollections, r.minorCollectionMs];
        return count === undefined ? [] : [`${count} (${Math.round(ms ?? 0)})`];
      })
      .join(' / '),
  ).filter((text) => text !== '');
  return parts.length === 0 ? '–' : parts.join(', ');
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
