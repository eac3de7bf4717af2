/**
 * The performance goals the project holds itself to, judged in every run that measures them:
 * the first table of `latest.md` (and of docs/performance.md, copied from a full run).
 * Each goal is a ratio of one target's headline figure to a reference's, paired per
 * repetition; where a floor (bare ws, bare `http`, an empty Express app) is itself above the
 * goal against the same reference, no server built on it can meet the goal, and the table
 * says so. The idle-scale goal is of another kind: from the run's idle-scale measurement,
 * whether what one more idle session costs stays the same as sessions grow. Where the run
 * also measured a goal's scenario with its targets interleaved (interleave-run.ts), the
 * table gives that ratio too, paired per set, beside the verdict judged as the goal is set.
 */
import type { ScenarioSpec, TargetName, Transport } from './scenarios';
import { fmt, fmtRatio, pairedRatios, type Spread } from './stats';
import { tableLines } from './markdown-table';
import {
  CONSTANT_SLOPE,
  FIGURES,
  marginalSlopes,
  slopeVerdict,
  targetsOf,
  transportsOf,
  type FigureKey,
  type IdleScaleRun,
} from './idle-scale-figures';

export interface Goal {
  /** What is asked, in words. */
  text: string;
  scenario: string;
  target: TargetName;
  reference: TargetName;
  /** At most this ratio. */
  limit: number;
  /** The least any server of this kind costs, compared with the same reference. */
  floor?: TargetName;
}

/**
 * Fan-out, per delivered message against bare ws's loop of `ws.send()`: `publish()` encodes
 * once for all recipients, so at most half; a loop of `conn.write()` no dearer.
 */
export const FANOUT_LIMITS = { publish: 0.5, loop: 1.0 } as const;

const fanOut = (size: number): Goal[] => [
  {
    text: `fan-out to ${size.toLocaleString('en-US')} websockets: \`publish()\` at most 0.5x bare ws's \`ws.send()\` loop`,
    scenario: `ws-fanout-${size}`,
    target: 'ours-http-publish',
    reference: 'bare-ws',
    limit: FANOUT_LIMITS.publish,
    floor: 'ws-write-floor',
  },
  {
    text: `fan-out to ${size.toLocaleString('en-US')} websockets: a \`conn.write()\` loop at most 1.0x bare ws's loop`,
    scenario: `ws-fanout-${size}`,
    target: 'ours-http',
    reference: 'bare-ws',
    limit: FANOUT_LIMITS.loop,
    floor: 'ws-write-floor',
  },
];

export const GOALS: readonly Goal[] = [
  {
    text: 'websocket ping-pong, 32 B, 100 sessions: at most 1.10x bare ws',
    scenario: 'ws-pingpong',
    target: 'ours-http',
    reference: 'bare-ws',
    limit: 1.1,
  },
  {
    text: 'websocket, 10 in flight, 100 sessions: at most 1.00x bare ws',
    scenario: 'ws-pipelined',
    target: 'ours-http',
    reference: 'bare-ws',
    limit: 1.0,
  },
  {
    text: 'websocket open + close: at most 1.15x bare ws',
    scenario: 'ws-open-close',
    target: 'ours-http',
    reference: 'bare-ws',
    limit: 1.15,
  },
  {
    text: 'websocket 64 KiB ping-pong, 10 sessions: at most 1.5x bare ws',
    scenario: 'ws-64k',
    target: 'ours-http',
    reference: 'bare-ws',
    limit: 1.5,
  },
  {
    text: 'xhr-streaming ping-pong, 32 B, 50 sessions: at most 0.6x sockjs-node',
    scenario: 'xhr-streaming',
    target: 'ours-http',
    reference: 'sockjs-node',
    limit: 0.6,
    floor: 'bare-http',
  },
  {
    text: 'xhr-polling round trip, 50 sessions: at most 0.7x sockjs-node',
    scenario: 'xhr-polling',
    target: 'ours-http',
    reference: 'sockjs-node',
    limit: 0.7,
    floor: 'bare-http',
  },
  {
    text: 'idle websocket session, RSS: at most 1.3x bare ws',
    scenario: 'ws-idle-memory',
    target: 'ours-http',
    reference: 'bare-ws',
    limit: 1.3,
  },
  {
    text: 'idle xhr-streaming session, RSS: at most 0.5x sockjs-node',
    scenario: 'xhr-streaming-idle-memory',
    target: 'ours-http',
    reference: 'sockjs-node',
    limit: 0.5,
    floor: 'bare-http',
  },
  {
    text: 'Express + `fastPath`, xhr-streaming: at most 0.6x sockjs-node',
    scenario: 'xhr-streaming',
    target: 'ours-express-fastpath',
    reference: 'sockjs-node',
    limit: 0.6,
    floor: 'bare-http',
  },
  {
    text: 'Express + `fastPath`, xhr-polling: at most 0.7x sockjs-node',
    scenario: 'xhr-polling',
    target: 'ours-express-fastpath',
    reference: 'sockjs-node',
    limit: 0.7,
    floor: 'bare-http',
  },
  {
    text: 'Express, default path, xhr-streaming: at most 1.10x an empty Express app',
    scenario: 'xhr-streaming',
    target: 'ours-express',
    reference: 'express-baseline',
    limit: 1.1,
  },
  {
    text: 'Express, default path, xhr-polling: at most 1.10x an empty Express app',
    scenario: 'xhr-polling',
    target: 'ours-express',
    reference: 'express-baseline',
    limit: 1.1,
  },
  {
    text: 'idle websockets with heartbeats: at most 0.5x sockjs-node CPU',
    scenario: 'ws-idle-heartbeat',
    target: 'ours-http',
    reference: 'sockjs-node',
    limit: 0.5,
    floor: 'bare-ws',
  },
  ...fanOut(1000),
  ...fanOut(5000),
  ...fanOut(15_000),
];

/** A scenario's headline figure for one target, per repetition (null where it did not run). */
export type SeriesOf = (scenario: string, target: TargetName) => (number | null)[];

function verdict(ratio: Spread, floor: Spread | null, limit: number): string {
  if (ratio.n === 0) return '–';
  if (ratio.median <= limit) return 'met';
  if (floor !== null && floor.n > 0 && floor.median > limit)
    return '**not met**: the floor alone is above the goal';
  return '**not met**';
}

/** One figure's slopes for one target, null when it was not measured. */
type ScaleSlopes = { name: string; slopes: ReturnType<typeof marginalSlopes> };

/** The least a server costs per idle session on each transport: heartbeats from one timer. */
const SCALE_FLOORS: Partial<Record<Transport, TargetName>> = {
  websocket: 'bare-ws',
  'xhr-streaming': 'bare-http',
};

/** The figures the idle-scale goal judges, as its rows name them. */
const SCALE_FIGURES: readonly { key: FigureKey; name: string }[] = [
  { key: 'rss', name: 'RSS' },
  { key: 'heap', name: 'heap' },
  { key: 'cpu', name: 'heartbeat CPU' },
];

/**
 * The idle-scale goal, one row per transport and target: what one more session adds (the
 * slope, in which fixed costs drop out) from the middle step to the largest ÷ from the
 * smallest to the middle, within CONSTANT_SLOPE for RSS, heap and heartbeat CPU alike.
 */
function idleScaleRows(scale: IdleScaleRun): string[][] {
  const rows: string[][] = [];
  const slopesOf = (transport: Transport, target: TargetName): ScaleSlopes[] =>
    SCALE_FIGURES.map(({ key, name }) => ({
      name,
      slopes: marginalSlopes({ records: scale.records, info: scale.info, transport, target, key }),
    }));
  const measuredText = (slopes: ScaleSlopes[]): string =>
    slopes.flatMap((s) => (s.slopes === null ? [] : [`${s.name} ${s.slopes.ratio.toFixed(2)}x`])).join(', ');
  const isOff = (s: ScaleSlopes): boolean => s.slopes !== null && slopeVerdict(s.slopes.ratio) !== 'constant';
  for (const transport of transportsOf(scale.records)) {
    const targets = targetsOf(scale.records, transport);
    const floor = SCALE_FLOORS[transport];
    const floorSlopes = floor !== undefined && targets.includes(floor) ? slopesOf(transport, floor) : null;
    for (const target of targets) {
      const slopes = slopesOf(transport, target);
      const measured = slopes.filter(
        (s): s is { name: string; slopes: NonNullable<typeof s.slopes> } => s.slopes !== null,
      );
      if (measured.length === 0) continue;
      const [smallest, middle, largest] = measured[0].slopes.steps.map(fmt);
      const off = measured.filter(isOff);
      const missing = slopes.filter((s) => s.slopes === null).map((s) => s.name);
      const withFloor = target !== floor && floorSlopes !== null;
      // A figure that grows for the floor too is the floor's, not this server's.
      const floorBound =
        withFloor &&
        off.length > 0 &&
        off.every((s) => floorSlopes.some((f) => f.name === s.name && isOff(f)));
      rows.push([
        `idle ${transport} sessions: the cost one more session adds, ${middle}→${largest} ÷ ` +
          `${smallest}→${middle} sessions, within ${CONSTANT_SLOPE * 100}% ` +
          `(${SCALE_FIGURES.map((f) => f.name).join(', ')})`,
        `\`${target}\``,
        measuredText(measured),
        withFloor ? `\`${floor}\` ${measuredText(floorSlopes)}` : '',
        off.length === 0 && missing.length === 0
          ? 'met'
          : '**not met**: ' +
            [
              ...off.map((s) => `${s.name} ${slopeVerdict(s.slopes.ratio)}`),
              ...missing.map((name) => `no ${name} figure`),
            ].join(', ') +
            (floorBound ? ', as for the floor' : ''),
      ]);
    }
  }
  return rows;
}

const HEADINGS = [
  'goal',
  'target',
  'measured',
  'floor, same ratio',
  'interleaved',
  'floor, interleaved',
  'verdict',
];
/** Left out when the run interleaved no scenario. */
const INTERLEAVED_COLUMNS = [4, 5];

/**
 * The goals table for the scenarios of a run and its idle-scale measurement, or nothing
 * when it measured none of them.
 */
export function goalsSection(
  specs: readonly ScenarioSpec[],
  seriesOf: SeriesOf,
  scale: IdleScaleRun | null = null,
  /** CPU per unit per interleaved set; empty lists where the scenario was not interleaved. */
  interleavedOf: SeriesOf = () => [],
): string[] {
  const run = new Set(specs.map((spec) => spec.id));
  const rows: string[][] = [];
  const floorText = (goal: Goal, floor: Spread | null): string =>
    floor === null || floor.n === 0 ? '' : `\`${goal.floor}\` ${fmtRatio(floor)}`;
  let anyInterleaved = false;
  for (const goal of GOALS) {
    if (!run.has(goal.scenario)) continue;
    const ratiosOf = (series: SeriesOf): { ratio: Spread; floor: Spread | null } => {
      const reference = series(goal.scenario, goal.reference);
      return {
        ratio: pairedRatios(series(goal.scenario, goal.target), reference),
        floor: goal.floor === undefined ? null : pairedRatios(series(goal.scenario, goal.floor), reference),
      };
    };
    const separate = ratiosOf(seriesOf);
    if (separate.ratio.n === 0) continue;
    const interleaved = ratiosOf(interleavedOf);
    const measured = interleaved.ratio.n > 0;
    anyInterleaved ||= measured;
    rows.push([
      goal.text,
      `\`${goal.target}\``,
      fmtRatio(separate.ratio),
      floorText(goal, separate.floor),
      measured
        ? `${fmtRatio(interleaved.ratio)}, ${interleaved.ratio.median <= goal.limit ? 'met' : 'not met'}`
        : '',
      measured ? floorText(goal, interleaved.floor) : '',
      verdict(separate.ratio, separate.floor, goal.limit),
    ]);
  }
  const scaleRows =
    scale === null ? [] : idleScaleRows(scale).map((row) => [...row.slice(0, 4), '', '', row[4]]);
  if (rows.length + scaleRows.length === 0) return [];
  return [
    '## Goals',
    '',
    "Each target's headline figure divided by the reference's named in the goal, paired per " +
      'repetition: median (min–max). The floor column divides the least a server of the kind ' +
      'costs by the same reference: where it is above the goal, no server built on it meets it.' +
      (anyInterleaved
        ? " The interleaved columns divide the same figures measured with all of a scenario's targets " +
          'running at once and the load alternating between them in short windows (`## Interleaved` ' +
          "below), paired per set of processes: median (min–max). Their pairs share the machine's fast " +
          'and slow phases, which runs of one target at a time do not, but they are not the same ' +
          'measurement (each server works in bursts between idle windows): the verdict is judged on ' +
          'the runs of one target at a time, as the goals were set.'
        : '') +
      (scaleRows.length === 0
        ? ''
        : ' The idle-scale rows (the figures in `idle-scale.md`) divide, per target, the cost one more ' +
          'idle session adds from the middle step to the largest by the same from the smallest step to ' +
          'the middle (medians over the repetitions; for heartbeat CPU, per heartbeat received), for ' +
          `${SCALE_FIGURES.map((f) => FIGURES[f.key].title).join(', ')}.`),
    '',
    ...tableLines(
      anyInterleaved ? HEADINGS : HEADINGS.filter((_, i) => !INTERLEAVED_COLUMNS.includes(i)),
      [...rows, ...scaleRows].map((row) =>
        anyInterleaved ? row : row.filter((_, i) => !INTERLEAVED_COLUMNS.includes(i)),
      ),
    ),
    '',
  ];
}
