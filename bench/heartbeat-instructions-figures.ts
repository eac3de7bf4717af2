/**
 * The heartbeat-instructions run's figures: what one window at one step counted, and from
 * it the instructions per heartbeat period, per heartbeat, and the slope between steps
 * (what one more session adds per heartbeat), with whether that slope stays constant.
 */
import type { TargetName, Transport } from './scenarios';
import { CONSTANT_SLOPE, slopeVerdict } from './idle-scale-figures';
import { spread, type Spread } from './stats';

export { CONSTANT_SLOPE, slopeVerdict };

/** What the report says of a run: when, how, and with which settings. */
export interface InstructionInfo {
  date: string;
  command: string;
  node: string;
  valgrind: string;
  valgrindOptions: string[];
  serverFlags: string[];
  pinning: string;
  steps: number[];
  heartbeatMs: number;
  windowMs: number;
  settleMs: number;
  warmUpMs: number;
  reps: number;
}

/** One window at one step of one server. */
export interface InstructionRecord {
  transport: Transport;
  target: TargetName;
  rep: number;
  step: number;
  /** Sessions open during the window (the load generator's count). */
  sessions: number;
  /** Instructions the server ran in user space, every thread, while instrumented. */
  instructions?: number;
  /** Of them, in V8's compilers (by function name): code compiled in the window. */
  compilerInstructions?: number;
  /** Of them, in V8's collector (by function name). */
  collectorInstructions?: number;
  /** The window on the runner's clock: from the load generator's start to the dump written. */
  instrumentedMs?: number;
  /** Heartbeats the load generator received from instrumentation on to the dump. */
  heartbeats?: number;
  /** The load generator's window. */
  windowMs?: number;
  /** Sessions the server closed during the window. */
  closedInWindow?: number;
  error?: string;
}

/**
 * Heartbeat rounds in the window: heartbeats received per open session. A server that
 * keeps up sends every session one per period, so this is about the window ÷ the period;
 * less means heartbeats were late or missing.
 */
export function roundsOf(r: InstructionRecord): number | undefined {
  return r.heartbeats === undefined || r.sessions === 0 ? undefined : r.heartbeats / r.sessions;
}

/**
 * The window's instructions less V8's compilers: compiling is a one-off cost of code that
 * has just begun to run often enough (after a collection deoptimized it), not a cost of the
 * sessions, and it fell in some windows and not in others. The collector's share stays:
 * what the heartbeats allocate is theirs. A record without the split counts whole.
 */
export function heartbeatInstructionsOf(r: InstructionRecord): number | undefined {
  return r.instructions === undefined ? undefined : r.instructions - (r.compilerInstructions ?? 0);
}

/**
 * Instructions per heartbeat period: the window's count (less V8's compilers, `whole`:
 * all of it) ÷ its rounds. Per round received, not per period of the clock: servers batch
 * heartbeats (ours on its clock's ticks, bare ws and bare-http on one shared timer), so a
 * window holds whole batches, and a server slowed down by valgrind stretches its periods.
 */
export function perPeriodOf(r: InstructionRecord, whole = false): number | undefined {
  const rounds = roundsOf(r);
  const count = whole ? r.instructions : heartbeatInstructionsOf(r);
  return count === undefined || rounds === undefined || rounds === 0 ? undefined : count / rounds;
}

/** Instructions per heartbeat delivered (less V8's compilers): fixed costs included. */
export function perHeartbeatOf(r: InstructionRecord): number | undefined {
  const count = heartbeatInstructionsOf(r);
  return count === undefined || !r.heartbeats ? undefined : count / r.heartbeats;
}

/** The collector's instructions per heartbeat delivered. */
export function collectorPerHeartbeatOf(r: InstructionRecord): number | undefined {
  return r.collectorInstructions === undefined || !r.heartbeats
    ? undefined
    : r.collectorInstructions / r.heartbeats;
}

/** A step's point: sessions open and instructions per heartbeat period. */
export interface StepPoint {
  sessions: number;
  perPeriod: number;
}

/**
 * The slopes between consecutive steps, instructions one more session adds per heartbeat,
 * and the last ÷ the first: 1 when the cost of a session does not depend on how many
 * others there are.
 */
export function slopesOf(points: readonly StepPoint[]): { slopes: number[]; ratio: number } {
  const slopes = points
    .slice(1)
    .map((p, i) => (p.perPeriod - points[i].perPeriod) / (p.sessions - points[i].sessions));
  return { slopes, ratio: slopes.length < 2 ? NaN : slopes[slopes.length - 1] / slopes[0] };
}

/** The windows of one server: one transport, target and repetition, by step. */
export function runOf(
  records: readonly InstructionRecord[],
  transport: Transport,
  target: TargetName,
  rep: number,
): InstructionRecord[] {
  return records
    .filter((r) => r.transport === transport && r.target === target && r.rep === rep)
    .sort((a, b) => a.step - b.step);
}

/** One repetition's slopes (`whole`: of all instructions), or null unless every step gave a figure. */
export function repSlopes(
  records: readonly InstructionRecord[],
  steps: readonly number[],
  transport: Transport,
  target: TargetName,
  rep: number,
  whole = false,
): { slopes: number[]; ratio: number } | null {
  const run = runOf(records, transport, target, rep);
  const points: StepPoint[] = [];
  for (const step of steps) {
    const record = run.find((r) => r.step === step && r.error === undefined);
    const perPeriod = record === undefined ? undefined : perPeriodOf(record, whole);
    if (record === undefined || perPeriod === undefined) return null;
    points.push({ sessions: record.sessions, perPeriod });
  }
  return slopesOf(points);
}

/** (max − min) ÷ median of a spread: how far the repetitions lie apart. */
export function relativeSpread(s: Spread): number {
  return s.n < 2 ? NaN : (s.max - s.min) / Math.abs(s.median);
}

/** A figure over the repetitions at one step. */
export function stepSpread(
  records: readonly InstructionRecord[],
  transport: Transport,
  target: TargetName,
  step: number,
  figure: (r: InstructionRecord) => number | undefined,
): Spread {
  return spread(
    records
      .filter(
        (r) => r.transport === transport && r.target === target && r.step === step && r.error === undefined,
      )
      .map((r) => figure(r) ?? null),
  );
}

export function transportsOf(records: readonly InstructionRecord[]): Transport[] {
  return [...new Set(records.map((r) => r.transport))];
}

export function targetsOf(records: readonly InstructionRecord[], transport: Transport): TargetName[] {
  return [...new Set(records.filter((r) => r.transport === transport).map((r) => r.target))];
}

export function repsOf(records: readonly InstructionRecord[]): number[] {
  return [...new Set(records.map((r) => r.rep))].sort((a, b) => a - b);
}
