/**
 * The heartbeat-instructions measurement: one server per target and transport, under
 * callgrind with instrumentation off, opens idle sessions in steps (the idle-scale load);
 * at each step, once the sessions have had their first heartbeats, instrumentation is on
 * for a window of several heartbeat periods while the load generator counts the
 * heartbeats it receives.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClientTarget, LoadResult, MemoryReply } from './ipc';
import { IpcPeer } from './ipc';
import { startServer, stop } from './processes';
import { TARGETS, type TargetName } from './scenarios';
import { SERVER_FLAGS, eachIdleServer, loadFor, specOf, type ScaleTransport } from './idle-scale-measure';
import { InstructionWindow, callgrindPrefix } from './callgrind';
import { countedWindow } from './counted-window';
import type { InstructionRecord } from './heartbeat-instructions-figures';

export interface InstructionOptions {
  steps: number[];
  targets: TargetName[];
  transports: ScaleTransport[];
  heartbeatMs: number;
  windowMs: number;
  /** Uninstrumented load after each step's sessions opened, before its window. */
  settleMs: number;
  /** The largest step held this long, uninstrumented, before the steps (warmUp()). */
  warmUpMs: number;
  reps: number;
  /** Node's options for every server, after idle-scale's SERVER_FLAGS. */
  nodeFlags: string[];
  /** Where to keep callgrind's dumps (for callgrind_annotate); null: a temporary directory, removed. */
  dumpDir: string | null;
}

/**
 * Node's options for every server here, after idle-scale's SERVER_FLAGS.
 *
 * `--no-opt --always-sparkplug`: every function in one tier, V8's baseline code
 * (Sparkplug), compiled when it first runs. TurboFan optimizes what has run often enough,
 * and at the steps valgrind keeps up with that differed by step: with it on, at 250
 * websocket sessions (ours-http) a window spent 62.5 M instructions in TurboFan and ran
 * 1.6 times the instructions per heartbeat outside V8's compilers that it ran at 1,000
 * sessions (36,300 against 22,500; in builtins 12,700 against 4,400), and every
 * full collection deoptimizes some of it again. Counts in one tier answer how the cost per
 * session grows with sessions; they are not what optimized code costs.
 *
 * `--min-semi-space-size=1 --max-semi-space-size=1`: the young generation fixed at 1 MiB a
 * semi-space. V8 sizes it by how much survives, and shrinks it after the full collections
 * before each window; at its own sizes a window of 1,000 to 4,000 websocket sessions held
 * from no young collection to a dozen (sockjs-node: 13.5 M instructions of scavenging at
 * 1,000 sessions, 3.3 M at 2,000). Fixed and small, every window holds several, in
 * proportion to what the heartbeats allocate.
 */
export const INSTRUCTION_FLAGS: readonly string[] = [
  '--no-opt',
  '--always-sparkplug',
  '--min-semi-space-size=1',
  '--max-semi-space-size=1',
];

/** Node and valgrind starting together take seconds, not milliseconds. */
const START_MS = 120_000;

/**
 * Before the steps: the largest step's sessions opened, held for `warmUpMs` and closed
 * again, all uninstrumented, so that what opening, heartbeats and closing run has been
 * compiled and its inline caches have seen it. In the trial runs with TurboFan on (before
 * INSTRUCTION_FLAGS), without it a window carried the compiling of code the heartbeats
 * run (ours-http, 250 websocket sessions: 117 M instructions in a window, a fifth of them
 * in V8's compiler, against 54 M at 1,000 sessions).
 */
async function warmUp(options: InstructionOptions, client: IpcPeer, server: IpcPeer): Promise<void> {
  const largest = options.steps[options.steps.length - 1];
  const opened = await client.request<LoadResult>({ type: 'open-idle', sessions: largest }, 900_000);
  await loadFor(client, options.warmUpMs);
  await client.request<LoadResult>({ type: 'close-idle', sessions: opened.openSessions }, 120_000);
  // A period for the server to end them (an xhr session once its disconnect delay passed).
  await loadFor(client, 2 * options.heartbeatMs);
  await server.request<MemoryReply>({ type: 'memory' }, 120_000);
}

/** One server through every step; a failed step ends the run, its figures kept. */
async function runSteps(
  options: InstructionOptions,
  transport: ScaleTransport,
  target: TargetName,
  rep: number,
  client: IpcPeer,
  serverPins: string[],
): Promise<InstructionRecord[]> {
  const records: InstructionRecord[] = [];
  const outDir =
    options.dumpDir === null
      ? mkdtempSync(join(tmpdir(), 'heartbeat-instructions-'))
      : mkdtempSync(join(options.dumpDir, `${transport}-${target}-${rep + 1}-`));
  const server = await startServer(
    target,
    [...serverPins, ...callgrindPrefix(outDir)],
    { BENCH_HEARTBEAT_MS: String(options.heartbeatMs) },
    [...SERVER_FLAGS, ...INSTRUCTION_FLAGS, ...options.nodeFlags],
    START_MS,
  );
  // taskset and valgrind exec what follows them: valgrind runs node in this same process.
  const pid = server.child.pid;
  const clientTarget: ClientTarget = { name: target, port: server.port, wire: TARGETS[target].wire };
  let open = 0;
  try {
    if (pid === undefined) throw new Error(`${target} has no pid`);
    const window = new InstructionWindow(pid, outDir);
    await client.request(
      { type: 'setup', spec: specOf(transport, options.steps), target: clientTarget },
      120_000,
    );
    await warmUp(options, client, server.peer);
    for (const step of options.steps) {
      const record: InstructionRecord = { transport, target, rep, step, sessions: open };
      records.push(record);
      try {
        const opened = await client.request<LoadResult>(
          { type: 'open-idle', sessions: step - open },
          900_000,
        );
        open = opened.openSessions;
        record.sessions = open;
        if (open < step) throw new Error(`${open} of ${step} sessions open (${opened.errors} errors)`);
        // Full collections (the memory reading's) of what opening the sessions left, then
        // the settling load, both before the window: whether a full collection fell into a
        // window otherwise depended on how far the heap had grown towards its next limit.
        // With TurboFan on (the trial runs, before INSTRUCTION_FLAGS) a full collection
        // also deoptimized code that held objects it freed ("weak objects" in
        // --trace-deopt), and V8 compiled it again once it had run enough: in a window
        // straight after the collections that was half of it (ours-http, 1,000 websocket
        // sessions: 172 M of 306 M instructions in V8's compiler; 7.6 M at 4,000).
        await server.peer.request<MemoryReply>({ type: 'memory' }, 120_000);
        // The first step settles a window longer, the first after the warm-up's sessions
        // closed. With TurboFan on, its collections deoptimized more, and the smallest
        // step ran the heartbeats' code least often (steps 1,000, 2,000, 4,000: 31.5 M of
        // the first window's 118 M instructions in V8's compiler after three periods of
        // settling; 0.1 M at 2,000 and 4,000 sessions).
        await loadFor(client, options.settleMs + (step === options.steps[0] ? options.windowMs : 0));
        const { totals, split, load, instrumentedMs } = await countedWindow(window, client, options.windowMs);
        record.instrumentedMs = instrumentedMs;
        record.instructions = totals['Ir'];
        record.compilerInstructions = split.compiler;
        record.collectorInstructions = split.collector;
        record.heartbeats = load.count;
        record.windowMs = load.elapsedMs;
        record.closedInWindow = load.errors;
        if (record.instructions === undefined) throw new Error('the dump has no Ir count');
      } catch (error) {
        record.error = error instanceof Error ? error.message : String(error);
        break;
      } finally {
        console.log(
          `  rep ${rep + 1} ${transport.padEnd(13)} ${target.padEnd(13)} ${describe(record, options)}`,
        );
      }
    }
    await client.request({ type: 'teardown' }, 120_000);
  } finally {
    await stop(server.child, server.peer);
    if (options.dumpDir === null) rmSync(outDir, { recursive: true, force: true });
  }
  return records;
}

function describe(r: InstructionRecord, options: InstructionOptions): string {
  const head = `${String(r.step).padStart(6)} sessions: `;
  if (r.error !== undefined) return head + `FAILED: ${r.error}`;
  const rounds = r.heartbeats === undefined ? NaN : r.heartbeats / r.sessions;
  return (
    head +
    `${((r.instructions ?? NaN) / 1e6).toFixed(1)} M instructions in ${((r.instrumentedMs ?? NaN) / 1000).toFixed(1)} s, ` +
    `${r.heartbeats} heartbeats (${rounds.toFixed(2)} per session, ${(options.windowMs / options.heartbeatMs).toFixed(2)} periods), ` +
    `${r.closedInWindow ?? '?'} closed`
  );
}

/** Every step of every server idle-scale's eachIdleServer() starts, counted in instructions. */
export function measureInstructions(
  options: InstructionOptions,
  pins: { server: string[]; client: string[] },
): Promise<InstructionRecord[]> {
  return eachIdleServer<InstructionRecord>(
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
