/** Turns the runs into the Markdown tables (stdout and results/latest.md) and the JSON. */
import {
  IDLE_CPU_WARMUP_MS,
  TARGETS,
  baselineOf,
  currentOf,
  floorFor,
  isBaseline,
  targetsFor,
  withTwins,
  type RunTarget,
  type ScenarioSpec,
  type TargetName,
} from './scenarios';
import { FANOUT_LIMITS, goalsSection } from './goals';
import { perSet, type InterleavedRun } from './interleave-run';
import { interleavedSection } from './interleave-report';
import type { IdleScaleRun } from './idle-scale-figures';
import { tableLines } from './markdown-table';
import { fmt, fmtRatio, fmtSpread, median, pairedRatios, spread, type Spread } from './stats';

/** One measurement: one target, one scenario, one repetition, each in fresh processes. */
export interface RunRecord {
  scenario: string;
  target: RunTarget;
  rep: number;
  error?: string;
  /** echo / open-close */
  count?: number;
  elapsedMs?: number;
  /** Server CPU (user + system) per message or per session, microseconds. */
  cpuPerUnitUs?: number;
  /** Of that, the kernel's (system time): system calls, and loopback TCP work they do. */
  kernelPerUnitUs?: number;
  /** Read and write system calls of the server per message (or session, or heartbeat). */
  readsPerUnit?: number;
  writesPerUnit?: number;
  /** Server CPU over the window as a share of one core. */
  serverCpu?: number;
  clientCpu?: number;
  /** CPU used by everything else on the machine over the window, in cores. */
  otherCpu?: number;
  ratePerSecond?: number;
  p50?: number;
  p90?: number;
  p99?: number;
  errors?: number;
  /** idle-memory, bytes per session: RSS less V8's young generation, and with it. */
  rssPerSession?: number;
  rssWithYoungPerSession?: number;
  heapPerSession?: number;
  sessions?: number;
  baseRss?: number;
}

export interface RunInfo {
  date: string;
  command: string;
  node: string;
  cpu: string;
  cores: number;
  pinning: string;
  reps: number;
  /** Repetitions each scenario ran: `reps`, or its own minimum or maximum. */
  repsByScenario: Readonly<Record<string, number>>;
  warmupMs: number;
  durationMs: number;
  profiling: boolean;
  /** The open-file limit the server and load generator ran under; null where unknown. */
  openFileLimit: number | null;
  /** ws's optional native add-ons found installed (bufferutil). */
  wsAddons: string[];
  /** With `--baseline`: the commit whose library build the `@base` twins ran. */
  baseline: BaselineInfo | null;
}

export interface BaselineInfo {
  /** As given on the command line. */
  ref: string;
  sha: string;
  /** The commit's subject line. */
  subject: string;
}

/** A ratio after ÷ before above this is flagged as a regression in the before/after table. */
export const REGRESSION_RATIO = 1.03;

type Metric = keyof RunRecord;

function series(
  records: readonly RunRecord[],
  scenario: string,
  target: RunTarget,
  metric: Metric,
  reps: number,
) {
  const values: (number | null)[] = new Array<number | null>(reps).fill(null);
  for (const record of records) {
    if (record.scenario !== scenario || record.target !== target || record.error !== undefined) continue;
    const value = record[metric];
    if (typeof value === 'number') values[record.rep] = value;
  }
  return values;
}

const kib = (bytes: number): string => fmt(bytes / 1024);
const ms = (value: number): string => fmt(value);
const percent = (value: number): string => (Number.isFinite(value) ? Math.round(value * 100) + '%' : '–');

/** The figure each scenario is judged by: CPU per unit, RSS per idle session, or CPU per second. */
function headline(spec: ScenarioSpec): Metric {
  if (spec.kind === 'idle-memory') return 'rssPerSession';
  return spec.kind === 'idle-cpu' ? 'serverCpu' : 'cpuPerUnitUs';
}

/** A share of one core as milliseconds of CPU per second. */
const msPerSecond = (share: number): string => fmt(share * 1000);

/** A headline figure in its table unit: KiB, ms / s, or µs. */
function headlineText(metric: Metric, value: number): string {
  if (metric === 'rssPerSession') return kib(value);
  return metric === 'serverCpu' ? msPerSecond(value) : fmt(value);
}

function unitOf(spec: ScenarioSpec): string {
  if (spec.kind === 'idle-memory') return 'RSS KiB / session';
  if (spec.kind === 'idle-cpu') return 'CPU ms / s';
  if (spec.kind === 'fan-out') return 'CPU µs / delivered msg';
  return spec.kind === 'open-close' ? 'CPU µs / session' : 'CPU µs / msg';
}

function metricsOf(spec: ScenarioSpec): Metric[] {
  if (spec.kind === 'idle-memory')
    return ['rssPerSession', 'rssWithYoungPerSession', 'heapPerSession', 'sessions'];
  const cpu: Metric[] = [
    'cpuPerUnitUs',
    'kernelPerUnitUs',
    'readsPerUnit',
    'writesPerUnit',
    'ratePerSecond',
    'serverCpu',
    'clientCpu',
    'otherCpu',
    'errors',
  ];
  if (spec.kind === 'fan-out') return [...cpu, 'p50', 'p99', 'sessions'];
  return spec.kind === 'idle-cpu' ? [...cpu, 'sessions'] : [...cpu, 'p50', 'p99'];
}

export interface ScenarioSummary {
  scenario: string;
  title: string;
  /** What the headline figure is: `CPU µs / msg`, `CPU µs / session`, `RSS KiB / session`. */
  unit: string;
  floor: TargetName | null;
  targets: Partial<Record<RunTarget, Record<string, Spread>>>;
  /** Headline figure of each target divided by sockjs-node's, paired per repetition. */
  vsSockjs: Partial<Record<RunTarget, Spread>>;
  /** The same, divided by the floor's (bare-ws or bare-http). */
  vsFloor: Partial<Record<RunTarget, Spread>>;
  /** The Express-mounted targets' figure divided by express-baseline's. */
  vsExpress: Partial<Record<RunTarget, Spread>>;
  /**
   * With `--baseline`: each library target's headline figure divided by its `@base` twin's
   * (after ÷ before), paired per repetition.
   */
  vsBaseline: Partial<Record<TargetName, Spread>>;
  /** Fan-out: every target's figure divided by `ws-write-floor`'s, bare ws's included. */
  vsWriteFloor: Partial<Record<RunTarget, Spread>>;
}

/** The targets mounted in an Express app, compared with the Express floor. */
const EXPRESS_MOUNTED: readonly TargetName[] = [
  'ours-express',
  'ours-express-fastpath',
  'ours-express-public',
];

export function summarize(
  specs: readonly ScenarioSpec[],
  records: readonly RunRecord[],
  repsByScenario: Readonly<Record<string, number>>,
  targetsRun: readonly RunTarget[],
): ScenarioSummary[] {
  return specs.map((spec) => {
    const reps = repsByScenario[spec.id] ?? 0;
    const targets = withTwins(targetsFor(spec), true).filter((t) => targetsRun.includes(t));
    const metrics = metricsOf(spec);
    const byTarget: ScenarioSummary['targets'] = {};
    for (const target of targets) {
      const entry: Record<string, Spread> = {};
      for (const metric of metrics) entry[metric] = spread(series(records, spec.id, target, metric, reps));
      byTarget[target] = entry;
    }
    const main = headline(spec);
    const floor = floorFor(spec);
    const ratiosTo = (
      reference: TargetName | null,
      compared: readonly RunTarget[] = targets,
    ): Partial<Record<RunTarget, Spread>> => {
      const ratios: Partial<Record<RunTarget, Spread>> = {};
      if (reference === null || !targets.includes(reference)) return ratios;
      for (const target of compared) {
        if (target === reference || target === floor || !targets.includes(target)) continue;
        ratios[target] = pairedRatios(
          series(records, spec.id, target, main, reps),
          series(records, spec.id, reference, main, reps),
        );
      }
      return ratios;
    };
    const vsBaseline: Partial<Record<TargetName, Spread>> = {};
    for (const target of targets) {
      if (isBaseline(target) || !targets.includes(baselineOf(target))) continue;
      vsBaseline[target] = pairedRatios(
        series(records, spec.id, target, main, reps),
        series(records, spec.id, baselineOf(target), main, reps),
      );
    }
    const vsWriteFloor: Partial<Record<RunTarget, Spread>> = {};
    if (spec.kind === 'fan-out' && targets.includes('ws-write-floor')) {
      for (const target of targets) {
        if (target === 'ws-write-floor') continue;
        vsWriteFloor[target] = pairedRatios(
          series(records, spec.id, target, main, reps),
          series(records, spec.id, 'ws-write-floor', main, reps),
        );
      }
    }
    return {
      scenario: spec.id,
      title: spec.title,
      unit: unitOf(spec),
      floor,
      targets: byTarget,
      vsSockjs: ratiosTo('sockjs-node'),
      vsFloor: ratiosTo(floor),
      vsExpress: ratiosTo(
        'express-baseline',
        targets.filter((t) => EXPRESS_MOUNTED.includes(currentOf(t))),
      ),
      vsBaseline,
      vsWriteFloor,
    };
  });
}

function entries(summary: ScenarioSummary): [RunTarget, Record<string, Spread>][] {
  return Object.entries(summary.targets) as [RunTarget, Record<string, Spread>][];
}

/** Warm-up and measured window per run; scenarios with a window of their own say theirs. */
/** `3 repetition(s)`, and the scenarios that ran another number. */
function repetitions(info: RunInfo, specs: readonly ScenarioSpec[]): string {
  const usual = `${info.reps} repetition(s)`;
  const other = new Map<number, string[]>();
  for (const spec of specs) {
    const reps = info.repsByScenario[spec.id] ?? info.reps;
    if (reps !== info.reps) other.set(reps, [...(other.get(reps) ?? []), spec.id]);
  }
  if (other.size === 0) return usual;
  return `${usual} (${[...other].map(([reps, ids]) => `${ids.join(', ')}: ${reps}`).join('; ')})`;
}

function windows(info: RunInfo, specs: readonly ScenarioSpec[]): string {
  const own = specs
    .filter((spec) => spec.windowMs !== undefined)
    .map((spec) => {
      const warmupMs = spec.kind === 'idle-cpu' ? Math.max(info.warmupMs, IDLE_CPU_WARMUP_MS) : info.warmupMs;
      return `${spec.id}: ${warmupMs} ms warm-up and ${(spec.windowMs ?? 0) / 1000} s measured`;
    });
  if (own.length === specs.length) return own.join('; ') + ' per run';
  const usual = `${info.warmupMs} ms warm-up and ${info.durationMs} ms measured per run`;
  return own.length === 0 ? usual : `${usual} (${own.join('; ')})`;
}

/** What a target is; a baseline twin is its target on the baseline's library. */
function describeTarget(target: RunTarget, baseline: BaselineInfo | null): string {
  if (!isBaseline(target)) return TARGETS[target].description;
  const commit = baseline === null ? 'the baseline' : `\`${baseline.ref}\` (${baseline.sha.slice(0, 12)})`;
  return `\`${currentOf(target)}\` with the library built from ${commit}`;
}

/**
 * The `--baseline` section: each library target's headline figure before (its `@base`
 * twin) and after (this tree), their paired ratio, and a flag where it got worse.
 */
function beforeAfter(
  baseline: BaselineInfo,
  specs: readonly ScenarioSpec[],
  summaries: readonly ScenarioSummary[],
): string[] {
  const rows: string[][] = [];
  const worse: string[] = [];
  let compared = 0;
  for (const summary of summaries) {
    const main = headline(specs.find((s) => s.id === summary.scenario) as ScenarioSpec);
    for (const [target, ratio] of Object.entries(summary.vsBaseline) as [TargetName, Spread][]) {
      const before = summary.targets[baselineOf(target)]?.[main];
      const after = summary.targets[target]?.[main];
      const text = (value: Spread | undefined): string =>
        value === undefined || value.n === 0 ? '–' : headlineText(main, value.median);
      let flag = '';
      if (ratio.n === 0) {
        flag = 'no pair: a run failed';
      } else {
        compared++;
        if (ratio.median > REGRESSION_RATIO) {
          flag = `**WORSE +${((ratio.median - 1) * 100).toFixed(1)}%**`;
          worse.push(`${summary.scenario} / ${target} ${fmtRatio(ratio)}`);
        }
      }
      rows.push([summary.scenario, target, summary.unit, text(before), text(after), fmtRatio(ratio), flag]);
    }
  }
  const limit = `${Math.round((REGRESSION_RATIO - 1) * 100)}%`;
  return [
    '## Before/after',
    '',
    `Before: the \`@base\` targets, the same server scripts on the library built from ` +
      `\`${baseline.ref}\` (${baseline.sha.slice(0, 12)}, "${baseline.subject}"); after: this tree's library. ` +
      'Both alternate in the same run, each twin next to its target: after it in odd-numbered ' +
      'repetitions, before it in even-numbered ones. Medians of the headline figure ' +
      '(lower is better); after ÷ before is paired per repetition: median (min–max). ' +
      `Flagged where that median is above ${REGRESSION_RATIO.toFixed(2)}x (more than ${limit} worse).`,
    '',
    ...tableLines(['scenario', 'target', 'figure', 'before', 'after', 'after ÷ before', 'regression'], rows),
    '',
    worse.length === 0
      ? `No figure got worse by more than ${limit} (${compared} compared).`
      : `**${worse.length} of ${compared} figures got worse by more than ${limit}:** ${worse.join('; ')}.`,
  ];
}

export function markdown(
  info: RunInfo,
  specs: readonly ScenarioSpec[],
  summaries: readonly ScenarioSummary[],
  records: readonly RunRecord[],
  /** The run's idle-scale measurement, judged in the goals table; null where it did not run. */
  scale: IdleScaleRun | null = null,
  /** The scenarios the run measured again with their targets interleaved. */
  interleaved: readonly InterleavedRun[] = [],
): string {
  const lines: string[] = [];
  lines.push('# sockjs-express benchmark results', '');
  lines.push(
    `${info.date}, \`${info.command}\`; Node ${info.node} on ${info.cpu} (${info.cores} cores); ` +
      `${info.pinning}; ${repetitions(info, specs)} per target, targets alternating; ` +
      `${windows(info, specs)}, fresh server process per run; ` +
      (info.wsAddons.length === 0
        ? 'ws without native add-ons (bufferutil not installed).'
        : `ws with ${info.wsAddons.join(' and ')} (in every target that uses ws).`),
    '',
  );
  if (info.profiling) {
    lines.push('**Profiling was on (`--profile`): the CPU figures include the profiler overhead.**', '');
  }
  const others = records
    .map((r) => r.otherCpu)
    .filter((v): v is number => v !== undefined && Number.isFinite(v));
  const busiest = others.length === 0 ? 0 : Math.max(...others);
  if (busiest > 0.15) {
    lines.push(
      `**The machine was not quiet:** other processes used up to ${Math.round(busiest * 100)}% of a core ` +
        `during measured windows (median ${Math.round(median(others) * 100)}%, column "other CPU"). ` +
        'Figures from busy runs are unreliable; run again on an idle machine.',
      '',
    );
  }

  const order = withTwins(Object.keys(TARGETS) as TargetName[], true).filter((t) =>
    summaries.some((summary) => summary.targets[t] !== undefined),
  );
  const cell = (value: Spread | undefined, format: (s: Spread) => string): string =>
    value === undefined ? '' : format(value);

  lines.push(
    ...goalsSection(
      specs,
      (scenario, target) => {
        const spec = specs.find((s) => s.id === scenario);
        return spec === undefined
          ? []
          : series(records, scenario, target, headline(spec), info.repsByScenario[scenario] ?? 0);
      },
      scale,
      (scenario, target) => {
        const run = interleaved.find((r) => r.scenario === scenario);
        return run === undefined ? [] : perSet(run, target);
      },
    ),
  );
  lines.push(...interleavedSection(interleaved));
  if (info.baseline !== null) lines.push(...beforeAfter(info.baseline, specs, summaries), '');
  if (scale !== null) lines.push('The idle-scale figures, tables and chart: `idle-scale.md`.', '');
  // `--scenario idle-scale` alone: the goals are all there is; no empty tables after them.
  if (specs.length === 0) return lines.join('\n');

  lines.push('## Summary', '');
  lines.push(
    "Server CPU per message (per session for open + close), RSS per idle session (less V8's young " +
      'generation, which grows to the same size for any number of sessions; the scenario tables show ' +
      'it with), and server CPU per second of idle sessions with heartbeats: medians over the repetitions.',
    '',
  );
  lines.push(
    ...tableLines(
      ['scenario', 'figure', ...order],
      summaries.map((summary) => {
        const spec = specs.find((s) => s.id === summary.scenario) as ScenarioSpec;
        const main = headline(spec);
        return [
          summary.scenario,
          summary.unit,
          ...order.map((t) => {
            const value = summary.targets[t]?.[main];
            return value === undefined ? '' : headlineText(main, value.median);
          }),
        ];
      }),
    ),
    '',
  );

  const oursVsSockjs = order.filter((t) => summaries.some((s) => s.vsSockjs[t] !== undefined));
  lines.push(
    "The same figures divided by sockjs-node's, paired per repetition: median (min–max). " +
      'Below 1.00x: cheaper than sockjs-node.',
    '',
  );
  lines.push(
    ...tableLines(
      ['scenario', ...oursVsSockjs.map((t) => `${t} ÷ sockjs-node`)],
      summaries.map((summary) => [
        summary.scenario,
        ...oursVsSockjs.map((t) => cell(summary.vsSockjs[t], fmtRatio)),
      ]),
    ),
    '',
  );

  const vsFloor = order.filter((t) => summaries.some((s) => s.vsFloor[t] !== undefined));
  lines.push(
    'Divided by the floor: `bare-ws` (ws@8 echo, no SockJS framing) for websocket scenarios, ' +
      '`bare-http` (node:http with near-empty handlers) for xhr echo scenarios.',
    '',
  );
  lines.push(
    ...tableLines(
      ['scenario', 'floor', ...vsFloor.map((t) => `${t} ÷ floor`)],
      summaries.map((summary) => [
        summary.scenario,
        summary.floor ?? '',
        ...vsFloor.map((t) => cell(summary.vsFloor[t], fmtRatio)),
      ]),
    ),
    '',
  );

  const vsExpress = order.filter((t) => summaries.some((s) => s.vsExpress[t] !== undefined));
  if (vsExpress.length > 0) {
    lines.push(
      'The Express-mounted targets divided by `express-baseline` (an Express app with near-empty ' +
        'handlers; for websocket open + close, upgrades routed through the app to ws): what the ' +
        'service costs beyond the Express application layer every request through the app pays.',
      '',
    );
    lines.push(
      ...tableLines(
        ['scenario', ...vsExpress.map((t) => `${t} ÷ express-baseline`)],
        summaries
          .filter((summary) => vsExpress.some((t) => summary.vsExpress[t] !== undefined))
          .map((summary) => [
            summary.scenario,
            ...vsExpress.map((t) => cell(summary.vsExpress[t], fmtRatio)),
          ]),
      ),
      '',
    );
  }

  lines.push(...fanOutGoals(specs, summaries));

  lines.push('## Scenarios', '');
  for (const summary of summaries) {
    const spec = specs.find((s) => s.id === summary.scenario) as ScenarioSpec;
    lines.push(`### ${summary.scenario}: ${summary.title}`, '');
    const ratioFor = (target: RunTarget): string[] => [
      cell(summary.vsSockjs[target], fmtRatio),
      cell(summary.vsFloor[target], fmtRatio),
    ];
    const floorName = floorFor(spec) ?? 'floor';
    if (spec.kind === 'idle-memory') {
      const rows = entries(summary).map(([target, m]) => [
        target,
        fmt(m.sessions.median),
        fmtSpread(m.rssPerSession, kib),
        fmtSpread(m.rssWithYoungPerSession, kib),
        fmtSpread(m.heapPerSession, kib),
        ...ratioFor(target),
      ]);
      lines.push(
        ...tableLines(
          [
            'target',
            'sessions',
            'RSS KiB / session',
            'with young generation',
            'heap + external KiB / session',
            'RSS ÷ sockjs-node',
            `RSS ÷ ${floorName}`,
          ],
          rows,
        ),
      );
    } else if (spec.kind === 'idle-cpu') {
      const rows = entries(summary).map(([target, m]) => [
        target,
        fmt(m.sessions.median),
        fmtSpread(m.serverCpu, msPerSecond),
        fmtSpread(m.cpuPerUnitUs),
        fmtSpread(m.readsPerUnit),
        fmtSpread(m.writesPerUnit),
        fmtSpread(m.ratePerSecond),
        fmtSpread(m.clientCpu, percent),
        fmtSpread(m.otherCpu, percent),
        Number.isFinite(m.errors.max) ? String(m.errors.max) : '–',
        cell(summary.vsSockjs[target], fmtRatio),
      ]);
      lines.push(
        ...tableLines(
          [
            'target',
            'sessions',
            'server CPU ms / s',
            'server CPU µs / heartbeat',
            'reads / heartbeat',
            'writes / heartbeat',
            'heartbeats / s',
            'client CPU',
            'other CPU',
            'errors',
            'CPU ÷ sockjs-node',
          ],
          rows,
        ),
      );
      const window = (spec.windowMs ?? info.durationMs) / 1000;
      lines.push(
        '',
        `Measured over ${window} s per run, after the sessions were open; errors are sessions the server closed in the window. A heartbeat is an \`h\` frame the load generator received, ` +
          'or a websocket ping where no `h` frames come: sockjs-node sends pings only; sockjs-express ' +
          'sends an `h` frame (PROTOCOL.md) and a ping to find dead peers with each heartbeat.' +
          (info.openFileLimit !== null && (summary.targets['ours-http']?.sessions.median ?? 0) < spec.sessions
            ? ` Fewer than ${fmt(spec.sessions)} sessions: the open-file limit of a process on this machine ` +
              `is ${fmt(info.openFileLimit)}, and every session holds a descriptor in the server and in the load generator.`
            : ''),
      );
    } else {
      // Echo, open + close and fan-out: the same columns, named for what a unit is.
      const fanOut = spec.kind === 'fan-out';
      const unit = fanOut ? 'delivered msg' : spec.kind === 'open-close' ? 'session' : 'msg';
      const latency = fanOut ? 'last arrival ' : spec.kind === 'open-close' ? 'open ' : '';
      const rows = entries(summary).map(([target, m]) => [
        target,
        fmtSpread(m.cpuPerUnitUs),
        fmtSpread(m.kernelPerUnitUs),
        fmtSpread(m.readsPerUnit),
        fmtSpread(m.writesPerUnit),
        fmtSpread(m.ratePerSecond),
        fmtSpread(m.p50, ms),
        fmtSpread(m.p99, ms),
        fmtSpread(m.serverCpu, percent),
        fmtSpread(m.clientCpu, percent),
        fmtSpread(m.otherCpu, percent),
        Number.isFinite(m.errors.max) ? String(m.errors.max) : '–',
        ...ratioFor(target),
      ]);
      lines.push(
        ...tableLines(
          [
            'target',
            `server CPU µs / ${unit}`,
            'of which kernel µs',
            `reads / ${unit}`,
            `writes / ${unit}`,
            `${unit} / s`,
            `${latency}p50 ms`,
            `${latency}p99 ms`,
            'server CPU',
            'client CPU',
            'other CPU',
            'errors',
            'CPU ÷ sockjs-node',
            `CPU ÷ ${floorName}`,
          ],
          rows,
        ),
      );
      if (fanOut) {
        lines.push(
          '',
          `${fmt(spec.sessions)} sessions; a delivered message is one message reaching one session. ` +
            'Latency per message: from the trigger to the last session having it (each message ' +
            'sent once the previous one had reached every session). Client CPU is the load ' +
            "generator's and its workers'. Kernel: the server's system time, mostly its `write` " +
            'system calls, in which Linux also runs the loopback delivery to the receiving socket.',
        );
      }
    }
    lines.push('');
  }

  lines.push('## Targets', '');
  for (const target of order) lines.push(`- \`${target}\`: ${describeTarget(target, info.baseline)}`);
  lines.push('');

  const failed = records.filter((r) => r.error !== undefined);
  if (failed.length > 0) {
    lines.push('## Failed runs', '');
    for (const r of failed) lines.push(`- ${r.scenario} / ${r.target} / rep ${r.rep + 1}: ${r.error}`);
    lines.push('');
  }
  return lines.join('\n');
}

/**
 * The ratios the fan-out goals are stated in: the broker's `publish()` at most half of bare
 * ws's loop of `ws.send()` per delivered message, a `conn.write()` loop no dearer than it;
 * both beside sockjs-node's loop.
 */
const FANOUT_GOALS: readonly { target: TargetName; way: string; goal: number }[] = [
  { target: 'ours-http-publish', way: '`broker.publish()`', goal: FANOUT_LIMITS.publish },
  { target: 'ours-http', way: '`conn.write()` loop', goal: FANOUT_LIMITS.loop },
  { target: 'ours-express', way: '`conn.write()` loop, Express', goal: FANOUT_LIMITS.loop },
];

function fanOutGoals(specs: readonly ScenarioSpec[], summaries: readonly ScenarioSummary[]): string[] {
  const rows: string[][] = [];
  for (const summary of summaries) {
    const spec = specs.find((s) => s.id === summary.scenario);
    if (spec?.kind !== 'fan-out') continue;
    for (const { target, way, goal } of FANOUT_GOALS) {
      if (summary.targets[target] === undefined) continue;
      const floor = summary.vsFloor[target];
      const met = floor === undefined || floor.n === 0 ? '–' : floor.median <= goal ? 'met' : '**not met**';
      rows.push([
        summary.scenario,
        `${target} (${way})`,
        floor === undefined ? '–' : fmtRatio(floor),
        floor === undefined ? '–' : `≤ ${goal.toFixed(1)}x: ${met}`,
        summary.vsSockjs[target] === undefined ? '–' : fmtRatio(summary.vsSockjs[target] as Spread),
        summary.vsWriteFloor[target] === undefined ? '–' : fmtRatio(summary.vsWriteFloor[target] as Spread),
      ]);
    }
    const bare = summary.vsWriteFloor['bare-ws'];
    if (bare !== undefined)
      rows.push([summary.scenario, 'bare-ws (`ws.send()` loop)', '1.00x', '', '–', fmtRatio(bare)]);
  }
  if (rows.length === 0) return [];
  return [
    '## Fan-out goals',
    '',
    "Server CPU per delivered message divided by bare ws's loop of `ws.send()` and by " +
      "sockjs-node's loop of `conn.write()`, paired per repetition: median (min–max). " +
      'xhr-streaming has no floor here: bare ws speaks websocket only. The last column divides ' +
      'by `ws-write-floor`, which writes one ready-made frame to each socket and does nothing ' +
      'else: what no server can go below, and how far under bare ws that is.',
    '',
    ...tableLines(['scenario', 'target', '÷ bare-ws', 'goal', '÷ sockjs-node', '÷ ws-write-floor'], rows),
    '',
  ];
}
