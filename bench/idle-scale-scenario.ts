/**
 * The `idle-scale` scenario of `npm run bench`: the idle-scale measurement
 * (idle-scale-measure.ts) with settings that fit a full run, after the other scenarios,
 * into the same files `npm run bench:idle-scale` writes.
 */
import type { TargetName } from './scenarios';
import { DEFAULT_HEARTBEAT_MS, capSteps, type ScaleOptions } from './idle-scale-measure';

/** Its id in `--scenario`, beside the scenarios of scenarios.ts. */
export const IDLE_SCALE_ID = 'idle-scale';

/**
 * Three steps: the smallest and the largest of `npm run bench:idle-scale`, and its middle
 * step, so that the slope is compared over the same two halves (1,000→5,000 and
 * 5,000→18,000) in about half the time; 18,000 is capped by the open-file limit.
 */
export const EMBEDDED_STEPS: readonly number[] = [1000, 5000, 18_000];
/** A smoke run's steps (`--quick --scenario idle-scale`): seconds each, not minutes. */
export const QUICK_STEPS: readonly number[] = [500, 1000, 2000];
/** The references of the goal beside ours: sockjs-node, and the floors (bare ws, bare-http). */
export const EMBEDDED_TARGETS: readonly TargetName[] = ['ours-http', 'sockjs-node', 'bare-ws', 'bare-http'];

/**
 * Three repetitions and a window of four heartbeat periods, each server stepping back down
 * after the largest step: the CPU per heartbeat of one server at a constant load moves by
 * two fifths for tens of seconds at a time on a shared machine, so that the median of three
 * rather than the mean of two decides the slope, and the way down evens out a drift.
 * `--quick`: one repetition, two periods.
 */
export function embeddedOptions(settings: {
  quick: boolean;
  reps: number | null;
  steps: readonly number[] | null;
  targets: readonly TargetName[];
}): ScaleOptions {
  return {
    steps: capSteps(settings.steps ?? (settings.quick ? QUICK_STEPS : EMBEDDED_STEPS)),
    targets: EMBEDDED_TARGETS.filter((t) => settings.targets.includes(t)),
    transports: ['websocket', 'xhr-streaming'],
    heartbeatMs: DEFAULT_HEARTBEAT_MS,
    windowMs: (settings.quick ? 2 : 4) * DEFAULT_HEARTBEAT_MS,
    reps: settings.reps ?? (settings.quick ? 1 : 3),
    down: true,
  };
}
