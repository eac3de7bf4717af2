/**
 * Targets measured side by side: all of a set's servers run at once (pinned to the server
 * core), and the load alternates between them in short windows, the order turning by one
 * target each round (A B C, B C A, C A B, ...). The host's slow and fast phases, which last
 * seconds to minutes on a shared virtual machine, then fall on every target of a round
 * alike; one target at a time, as `npm run bench` runs them, cannot pair that finely.
 * Several sets, each of fresh processes, show what a process's own luck adds (its memory
 * layout, what its JIT did).
 */
import { startServer, stop, type Server } from './processes';
import type { CpuReply } from './ipc';
import { currentOf, type RunTarget } from './scenarios';
import { unitOf, windowedLoad, type InterleavedScenario, type WindowedLoad } from './interleave-loads';

/** Each load runs this long on every target before the first round, unmeasured. */
export const WARMUP_MS = 1500;

/** One target's totals over one set's rounds. */
export interface InterleavedFigure {
  target: RunTarget;
  cpuMicros: number;
  units: number;
  /** CPU per unit in each round, in µs. */
  perRound: number[];
}

export interface InterleavedRun {
  scenario: InterleavedScenario;
  unit: string;
  windowMs: number;
  rounds: number;
  /** One list of figures per set, in the order the targets were given. */
  sets: InterleavedFigure[][];
}

export interface InterleaveOptions {
  scenario: InterleavedScenario;
  targets: readonly RunTarget[];
  sets: number;
  rounds: number;
  windowMs: number;
  /** Prefix of each server's command: core pinning. */
  serverPrefix: string[];
  /** A server's environment besides its own variables (a baseline twin's library). */
  envOf?: (target: RunTarget) => Record<string, string>;
  /** Told after each set, for progress output. */
  onSet?: (set: number, figures: readonly InterleavedFigure[]) => void;
}

interface Running extends Server {
  load: WindowedLoad;
  figure: InterleavedFigure;
  /** The server's CPU at the end of its last window (or before the first round). */
  lastCpu: number;
}

async function cpuOf(server: Server): Promise<number> {
  const { user, system } = await server.peer.request<CpuReply>({ type: 'cpu' }, 10_000);
  return user + system;
}

async function startAll(options: InterleaveOptions): Promise<Running[]> {
  const running: Running[] = [];
  try {
    for (const target of options.targets) {
      const server = await startServer(target, options.serverPrefix, options.envOf?.(target));
      const entry: Running = {
        ...server,
        load: windowedLoad(options.scenario, currentOf(target), server.port),
        figure: { target, cpuMicros: 0, units: 0, perRound: [] },
        lastCpu: 0,
      };
      running.push(entry);
      await entry.load.prepare();
    }
  } catch (error) {
    await stopAll(running);
    throw error;
  }
  return running;
}

async function stopAll(running: readonly Running[]): Promise<void> {
  for (const entry of running) entry.load.close();
  await Promise.all(running.map((entry) => stop(entry.child, entry.peer)));
}

async function measureSet(options: InterleaveOptions): Promise<InterleavedFigure[]> {
  const running = await startAll(options);
  try {
    for (const entry of running) await entry.load.window(WARMUP_MS);
    for (const entry of running) entry.lastCpu = await cpuOf(entry);
    for (let round = 0; round < options.rounds; round++) {
      for (let i = 0; i < running.length; i++) {
        const entry = running[(round + i) % running.length];
        const units = await entry.load.window(options.windowMs);
        // Charged from the server's previous reading: what it does after a window ends (a
        // collection finishing on a helper thread, sockets closing) counts toward the
        // window that caused it.
        const cpu = await cpuOf(entry);
        const used = cpu - entry.lastCpu;
        entry.lastCpu = cpu;
        entry.figure.cpuMicros += used;
        entry.figure.units += units;
        entry.figure.perRound.push(units > 0 ? used / units : NaN);
      }
    }
    return running.map((entry) => entry.figure);
  } finally {
    await stopAll(running);
  }
}

/** Runs `sets` sets one after the other, each of fresh servers for every target. */
export async function measureInterleaved(options: InterleaveOptions): Promise<InterleavedRun> {
  if (options.targets.length < 2) throw new Error('interleaving needs two targets or more');
  const sets: InterleavedFigure[][] = [];
  for (let set = 0; set < options.sets; set++) {
    const figures = await measureSet(options);
    sets.push(figures);
    options.onSet?.(set, figures);
  }
  return {
    scenario: options.scenario,
    unit: unitOf(options.scenario),
    windowMs: options.windowMs,
    rounds: options.rounds,
    sets,
  };
}

/** A target's CPU per unit in each set (null where it was not in the run). */
export function perSet(run: InterleavedRun, target: RunTarget): (number | null)[] {
  return run.sets.map((figures) => {
    const figure = figures.find((f) => f.target === target);
    return figure === undefined || figure.units === 0 ? null : figure.cpuMicros / figure.units;
  });
}
