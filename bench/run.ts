/**
 * `npm run bench`: runs every scenario against every target, each run in a fresh server
 * process pinned to one core with the load generator on another, targets alternating
 * (A B C D, A B C D, ...), and reports medians, spreads and paired ratios.
 *
 *   npm run bench                        every scenario, 3 repetitions, then five of them with
 *                                        their targets interleaved (interleave-run.ts), then
 *                                        the idle-scale measurement (idle-scale-measure.ts)
 *   npm run bench -- --quick             one short repetition: a smoke run of about a minute
 *   npm run bench -- --quick --scenario idle-scale --idle-scale-steps 200,400,800
 *   npm run bench -- --scenario ws-pingpong,xhr-streaming --target ours-express,sockjs-node
 *   npm run bench -- --profile --target ours-express --scenario ws-pingpong --reps 1
 *   npm run bench -- --baseline HEAD~1   each library target against its build at HEAD~1
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ClientTarget, CpuReply, LoadResult, MemoryReply } from './ipc';
import {
  IDLE_CPU_WARMUP_MS,
  SCENARIOS,
  TARGETS,
  currentOf,
  isBaseline,
  bySize,
  targetsFor,
  withTwins,
  type RunTarget,
  type ScenarioSpec,
  type TargetName,
} from './scenarios';
import { REGRESSION_RATIO, markdown, summarize, type RunInfo, type RunRecord } from './report';
import {
  comparisonText,
  profileText,
  summarizeProfile,
  type ProfiledRun,
  type ProfileSummary,
} from './profile';
import { killChildren, pinning, start, startServer, stop } from './processes';
import { INTERLEAVED_SCENARIOS } from './interleave-loads';
import type { InterleavedRun } from './interleave-run';
import { prepareBaseline, type Baseline } from './baseline';
import { measureFanOut } from './fan-out-scenario';
import { SPARE_FILE_DESCRIPTORS, machineBusyMicros, openFileLimit, pretty, systemCallsPerUnit } from './host';
import { measureIdleScale, scaleInfoOf } from './idle-scale-measure';
import { writeIdleScale } from './idle-scale-output';
import type { IdleScaleRun } from './idle-scale-figures';
import {
  EMBEDDED_STEPS,
  EMBEDDED_TARGETS,
  IDLE_SCALE_ID,
  QUICK_STEPS,
  embeddedOptions,
} from './idle-scale-scenario';
import { commaList, positiveInteger } from './cli-values';
import { LoadGenerator } from './load-generator';

interface Options {
  reps: number;
  warmupMs: number;
  durationMs: number;
  scenarios: ScenarioSpec[];
  targets: TargetName[];
  pin: boolean;
  nice: number | null;
  idleSessions: number | null;
  heartbeatSessions: number | null;
  profile: boolean;
  outDir: string;
  quick: boolean;
  /** `--reps` was given: every scenario runs exactly that many (up to its maxReps). */
  repsGiven: boolean;
  /** `--baseline <ref>`: the commit the library targets' `@base` twins take the library from. */
  baseline: string | null;
  /** `--fanout-sizes`: audiences of every fan-out scenario, instead of each one's own. */
  fanOutSizes: number[] | null;
  /** `--fanout-messages`: messages measured per fan-out run. */
  fanOutMessages: number;
  /** The `idle-scale` scenario: run after the others, in a full run or when named. */
  idleScale: boolean;
  /** `--idle-scale-steps`: its steps, instead of EMBEDDED_STEPS (QUICK_STEPS with --quick). */
  idleScaleSteps: number[] | null;
  /** `--interleave-sets`: sets of the interleaved measurement of each goal scenario; 0: none. */
  interleaveSets: number;
  /** `--interleave-rounds`: rounds per set. */
  interleaveRounds: number;
}

/** The interleaved measurement's defaults: roughly 13 minutes for the full run's five scenarios. */
const INTERLEAVE_SETS = 3;
const INTERLEAVE_ROUNDS = 10;
const INTERLEAVE_WINDOW_MS = 500;

/** Messages per fan-out run: measured, and sent before them unmeasured. */
const FANOUT_MESSAGES = 20;
const FANOUT_WARMUP_MESSAGES = 5;

const HELP = `Usage: node build/bench/run.js [options]
  --quick              1 repetition, 200 ms warm-up, 600 ms measured, 300 idle sessions,
                       no ws-idle-heartbeat and no idle-scale unless named with --scenario
  --reps N             repetitions per target (default 3; 7 for the open + close
                       scenarios unless given)
  --warmup MS          warm-up per run (default 1000)
  --duration MS        measured window per run (default 3000)
  --scenario a,b       scenarios to run (default: all of them); ids:
                       ${SCENARIOS.map((s) => s.id + (s.byDefault ? '' : ' (extra)')).join(', ')},
                       ${IDLE_SCALE_ID} (after the others: idle sessions in steps for
                       ${EMBEDDED_TARGETS.join(', ')} on websocket and xhr-streaming,
                       into idle-scale.{md,json,svg}, judged in the goals table; steps
                       ${EMBEDDED_STEPS.join(',')}, 2 repetitions (--reps when given), 20 s
                       CPU windows at a 5 s heartbeat: about 24 minutes on 2 cores;
                       --quick: ${QUICK_STEPS.join(',')}, 1 repetition, 10 s windows)
  --idle-scale-steps a,b,c
                       idle-scale's steps, growing (capped at the open-file limit less 1000;
                       the slope is judged over smallest → middle → largest)
  --all                every scenario (the default)
  --target a,b         targets to run (default: all but the extra ones); names:
                       ${Object.values(TARGETS)
                         .map((t) => t.name + (t.byDefault ? '' : ' (extra)'))
                         .join(', ')}
  --idle-sessions N    sessions for the idle-memory scenarios (default 5000)
  --fanout-sizes a,b   sessions of the fan-out scenarios, one run each (default 1000,5000,15000
                       for ws-fanout and 1000 for xhr-streaming-fanout; --quick: 1000)
  --fanout-messages N  messages measured per fan-out run (default ${FANOUT_MESSAGES}; --quick: 10)
  --heartbeat-sessions N
                       sessions for ws-idle-heartbeat (default 50000, or what the open-file
                       limit allows a process, less 1000)
  --interleave-sets N  after the scenarios, those of ${INTERLEAVED_SCENARIOS.join(', ')}
                       run are measured again with all their targets at once and the
                       load alternating between them in ${INTERLEAVE_WINDOW_MS} ms windows: N sets of
                       fresh processes (default ${INTERLEAVE_SETS}; --quick: 0; none with --profile),
                       a cross-check beside the goals, which are judged on the runs above
  --interleave-rounds N
                       rounds per interleaved set (default ${INTERLEAVE_ROUNDS})
  --no-pin             do not pin server and client to cores with taskset
  --nice N             run server and load generator under \`nice -n N\` (a negative N needs
                       privileges, and slows everything else on the machine)
  --profile            CPU-profile each server over its measured window (not idle-memory runs);
                       .cpuprofile files and summary.txt in <out>/profiles
  --out DIR            where latest.md and latest.json go (default bench/results; with
                       --profile, <out>/profiles)
  --baseline REF       also run each library target (every ours-*) on the library of
                       commit REF (git archive + tsc into bench/.baseline/<sha>/, reused),
                       as <target>@base next to it in the alternation; the report gets a
                       "Before/after" section: this tree ÷ REF per scenario, flagged above
                       ${REGRESSION_RATIO.toFixed(2)}x`;

function parseArgs(argv: string[]): Options {
  const options: Options = {
    reps: 3,
    warmupMs: 1000,
    durationMs: 3000,
    scenarios: SCENARIOS.filter((s) => s.byDefault),
    targets: Object.values(TARGETS)
      .filter((t) => t.byDefault)
      .map((t) => t.name),
    pin: true,
    nice: null,
    idleSessions: null,
    heartbeatSessions: null,
    profile: false,
    outDir: resolve(__dirname, '../../bench/results'),
    quick: false,
    repsGiven: false,
    baseline: null,
    fanOutSizes: null,
    fanOutMessages: FANOUT_MESSAGES,
    idleScale: true,
    idleScaleSteps: null,
    interleaveSets: INTERLEAVE_SETS,
    interleaveRounds: INTERLEAVE_ROUNDS,
  };
  const explicit = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string | undefined => argv[++i];
    explicit.add(flag);
    switch (flag) {
      case '--quick':
        options.quick = true;
        break;
      case '--reps':
        options.reps = positiveInteger(flag, value());
        break;
      case '--warmup':
        options.warmupMs = positiveInteger(flag, value());
        break;
      case '--duration':
        options.durationMs = positiveInteger(flag, value());
        break;
      case '--scenario': {
        const ids = commaList(value());
        options.idleScale = ids.includes(IDLE_SCALE_ID);
        options.scenarios = ids
          .filter((id) => id !== IDLE_SCALE_ID)
          .map((id) => {
            const spec = SCENARIOS.find((s) => s.id === id);
            if (spec === undefined) throw new Error(`unknown scenario ${id}`);
            return spec;
          });
        break;
      }
      case '--all':
        options.scenarios = [...SCENARIOS];
        options.idleScale = true;
        break;
      case '--target':
        options.targets = commaList(value()).map((name) => {
          if (!(name in TARGETS)) throw new Error(`unknown target ${name}`);
          return name as TargetName;
        });
        break;
      case '--idle-sessions':
        options.idleSessions = positiveInteger(flag, value());
        break;
      case '--fanout-sizes':
        options.fanOutSizes = commaList(value()).map((n) => positiveInteger('--fanout-sizes', n));
        if (options.fanOutSizes.length === 0) throw new Error('--fanout-sizes needs a list of sizes');
        break;
      case '--fanout-messages':
        options.fanOutMessages = positiveInteger(flag, value());
        break;
      case '--idle-scale-steps': {
        const steps = commaList(value()).map((n) => positiveInteger(flag, n));
        if (steps.length < 3 || steps.some((n, j) => j > 0 && n <= steps[j - 1]))
          throw new Error(`${flag} needs three steps or more, growing: the slope is judged over two halves`);
        options.idleScaleSteps = steps;
        break;
      }
      case '--interleave-sets': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} needs a whole number (0: none)`);
        options.interleaveSets = n;
        break;
      }
      case '--interleave-rounds':
        options.interleaveRounds = positiveInteger(flag, value());
        break;
      case '--heartbeat-sessions':
        options.heartbeatSessions = positiveInteger(flag, value());
        break;
      case '--no-pin':
        options.pin = false;
        break;
      case '--nice': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < -20 || n > 19)
          throw new Error('--nice needs an integer from -20 to 19');
        options.nice = n;
        break;
      }
      case '--profile':
        options.profile = true;
        break;
      case '--out':
        options.outDir = resolve(value() ?? '.');
        break;
      case '--baseline': {
        const ref = value();
        if (ref === undefined || ref === '') throw new Error('--baseline needs a git commit-ish');
        options.baseline = ref;
        break;
      }
      case '--help':
      case '-h':
        console.log(HELP);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${flag}\n${HELP}`);
    }
  }
  if (options.quick) {
    if (!explicit.has('--reps')) options.reps = 1;
    if (!explicit.has('--warmup')) options.warmupMs = 200;
    if (!explicit.has('--duration')) options.durationMs = 600;
    if (!explicit.has('--idle-sessions')) options.idleSessions = 300;
    if (!explicit.has('--fanout-sizes')) options.fanOutSizes = [1000];
    if (!explicit.has('--fanout-messages')) options.fanOutMessages = 10;
    if (!explicit.has('--interleave-sets')) options.interleaveSets = 0;
    // Minutes per run: in a smoke run only when asked for by name.
    if (!explicit.has('--scenario')) {
      options.scenarios = options.scenarios.filter((s) => s.kind !== 'idle-cpu');
      options.idleScale = false;
    }
  }
  options.repsGiven = explicit.has('--reps');
  options.scenarios = options.scenarios.flatMap((spec) => bySize(spec, options.fanOutSizes));
  if (options.baseline !== null && !options.targets.some((t) => TARGETS[t].library))
    throw new Error('--baseline compares library targets, and none is among the targets to run');
  return options;
}

// ---------------------------------------------------------------------------------------

const cpuMicros = (usage: CpuReply): number => usage.user + usage.system;

/**
 * Whether ws loads the optional native add-on bufferutil in every target (ws looks for it
 * next to itself): it masks and unmasks frames natively, which changes the websocket
 * figures. (utf-8-validate matters only on Node without buffer.isUtf8, before 18.14.)
 */
function wsAddons(): string[] {
  if (process.env['WS_NO_BUFFER_UTIL']) return [];
  try {
    createRequire(require.resolve('ws')).resolve('bufferutil');
    return ['bufferutil'];
  } catch {
    return [];
  }
}

function heartbeatSessions(options: Options, spec: ScenarioSpec): number {
  const wanted = options.heartbeatSessions ?? spec.sessions;
  const limit = openFileLimit();
  return limit === null ? wanted : Math.min(wanted, limit - SPARE_FILE_DESCRIPTORS);
}

/**
 * What a target's server needs in its environment besides its own variables: in fan-out
 * runs, BENCH_FANOUT (the loop, unless the target names its way), and for a baseline twin
 * the baseline's library.
 */
function envOf(target: RunTarget, baseline: Baseline | null, spec?: ScenarioSpec): Record<string, string> {
  const env: Record<string, string> = {};
  if (spec?.kind === 'fan-out' && TARGETS[currentOf(target)].env?.['BENCH_FANOUT'] === undefined)
    env['BENCH_FANOUT'] = 'loop';
  if (!isBaseline(target)) return env;
  if (baseline === null) throw new Error(`${target} needs --baseline`);
  return { ...env, SOCKJS_EXPRESS_LIB: baseline.lib };
}

/**
 * The order of one repetition: the targets as listed, each baseline twin next to its
 * target, after it in even repetitions and before it in odd ones, so that neither side
 * of a pair always runs first.
 */
function runOrder(targets: readonly RunTarget[], rep: number): RunTarget[] {
  const order = [...targets];
  if (rep % 2 === 0) return order;
  for (let i = 0; i + 1 < order.length; i++) {
    if (isBaseline(order[i + 1]) && currentOf(order[i + 1]) === order[i]) {
      [order[i], order[i + 1]] = [order[i + 1], order[i]];
      i++;
    }
  }
  return order;
}

/**
 * Starts each baseline twin once before the benchmark: a baseline that cannot run a
 * target's script (an export it lacks) stops the run here, with the reason.
 */
async function checkBaseline(
  targets: readonly RunTarget[],
  baseline: Baseline,
  pins: { server: string[] },
): Promise<void> {
  for (const target of targets.filter(isBaseline)) {
    let server;
    try {
      server = await startServer(target, pins.server, envOf(target, baseline));
    } catch (error) {
      throw new Error(
        `--baseline ${baseline.ref} (${baseline.sha.slice(0, 12)}) cannot run ${target}: ` +
          (error instanceof Error ? error.message : String(error)),
        { cause: error },
      );
    }
    await stop(server.child, server.peer);
  }
}

async function runOnce(
  options: Options,
  spec: ScenarioSpec,
  target: RunTarget,
  rep: number,
  loadGenerator: LoadGenerator,
  pins: { server: string[] },
  baseline: Baseline | null,
): Promise<RunRecord> {
  const record: RunRecord = { scenario: spec.id, target, rep };
  const server = await startServer(target, pins.server, envOf(target, baseline, spec));
  const client = loadGenerator.get();
  const clientTarget: ClientTarget = {
    name: target,
    port: server.port,
    wire: TARGETS[currentOf(target)].wire,
  };
  try {
    const limit = openFileLimit();
    // One descriptor per session in the server (the load generator splits them over workers).
    if (spec.kind === 'fan-out' && limit !== null && spec.sessions > limit - SPARE_FILE_DESCRIPTORS)
      throw new Error(
        `${spec.sessions} sessions need more than the open-file limit of a process (${limit}) allows`,
      );
    // A fan-out setup opens up to tens of thousands of sessions.
    await client.request(
      { type: 'setup', spec, target: clientTarget },
      spec.kind === 'fan-out' ? 600_000 : 60_000,
    );
    if (spec.kind === 'fan-out') {
      const profile = options.profile
        ? {
            start: () => server.peer.request({ type: 'profile-start' }, 10_000),
            stop: () =>
              server.peer.request(
                {
                  type: 'profile-stop',
                  path: join(options.outDir, 'profiles', profileName(record) + '.cpuprofile'),
                },
                30_000,
              ),
          }
        : null;
      Object.assign(
        record,
        await measureFanOut(
          server.peer,
          client,
          spec,
          { messages: options.fanOutMessages, warmup: options.quick ? 2 : FANOUT_WARMUP_MESSAGES },
          machineBusyMicros,
          profile,
        ),
      );
    } else if (spec.kind === 'idle-memory') {
      const sessions = options.idleSessions ?? spec.sessions;
      const before = await server.peer.request<MemoryReply>({ type: 'memory' }, 10_000);
      const opened = await client.request<LoadResult>({ type: 'open-idle', sessions }, 180_000);
      // Let the sessions settle (handshake buffers freed, timers armed) before the count.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const after = await server.peer.request<MemoryReply>({ type: 'memory' }, 10_000);
      record.sessions = opened.openSessions;
      record.baseRss = before.rss;
      // The young generation grows with the allocation rate of the opening burst, to the same
      // size whatever the number of sessions: a cost of the process, left out of the figure
      // and shown beside it.
      record.rssWithYoungPerSession = (after.rss - before.rss) / opened.openSessions;
      record.rssPerSession = (after.rss - after.young - (before.rss - before.young)) / opened.openSessions;
      record.heapPerSession =
        (after.heapUsed + after.external - before.heapUsed - before.external) / opened.openSessions;
      record.elapsedMs = opened.elapsedMs;
      record.errors = opened.errors;
    } else {
      let warmupMs = options.warmupMs;
      const durationMs = spec.windowMs ?? options.durationMs;
      if (spec.kind === 'idle-cpu') {
        const sessions = heartbeatSessions(options, spec);
        const opened = await client.request<LoadResult>({ type: 'open-idle', sessions }, 900_000);
        record.sessions = opened.openSessions;
        if (opened.openSessions < sessions)
          throw new Error(`${opened.openSessions} of ${sessions} sessions opened (${opened.errors} errors)`);
        // The opening burst's garbage collected (every target alike) and the timers settled
        // before the window: the window is the steady state of idle sessions.
        await server.peer.request<MemoryReply>({ type: 'memory' }, 30_000);
        warmupMs = Math.max(warmupMs, IDLE_CPU_WARMUP_MS);
      }
      await client.request({ type: 'measure', durationMs: warmupMs }, warmupMs + 30_000);
      if (options.profile) await server.peer.request({ type: 'profile-start' }, 10_000);
      // Sent in the same tick: the server's CPU window and the client's window start together.
      const cpuBefore = server.peer.request<CpuReply>({ type: 'cpu' }, 10_000);
      const machineBefore = machineBusyMicros();
      const measured = client.request<LoadResult>({ type: 'measure', durationMs }, durationMs + 30_000);
      const result = await measured;
      const cpuAfter = await server.peer.request<CpuReply>({ type: 'cpu' }, 10_000);
      const machineAfter = machineBusyMicros();
      if (options.profile) {
        const path = join(options.outDir, 'profiles', profileName(record) + '.cpuprofile');
        await server.peer.request({ type: 'profile-stop', path }, 30_000);
      }
      const cpuStart = await cpuBefore;
      const serverMicros = cpuMicros(cpuAfter) - cpuMicros(cpuStart);
      const clientMicros = result.clientCpu * result.elapsedMs * 1000;
      const otherCpu =
        machineBefore === null || machineAfter === null
          ? NaN
          : Math.max(0, machineAfter - machineBefore - serverMicros - clientMicros) / 1000 / result.elapsedMs;
      Object.assign(record, {
        count: result.count,
        elapsedMs: result.elapsedMs,
        cpuPerUnitUs: result.count > 0 ? serverMicros / result.count : NaN,
        kernelPerUnitUs: result.count > 0 ? (cpuAfter.system - cpuStart.system) / result.count : NaN,
        ...systemCallsPerUnit(cpuStart, cpuAfter, result.count),
        serverCpu: serverMicros / 1000 / result.elapsedMs,
        clientCpu: result.clientCpu,
        otherCpu,
        ratePerSecond: (result.count * 1000) / result.elapsedMs,
        p50: result.p50,
        p90: result.p90,
        p99: result.p99,
        errors: result.errors,
      });
      if (result.count === 0) record.error = 'no message completed in the window';
    }
    await client.request({ type: 'teardown' }, 30_000);
  } catch (error) {
    record.error = error instanceof Error ? error.message : String(error);
    // A load generator in an unknown state is replaced, not reused.
    await loadGenerator.restart();
  } finally {
    await stop(server.child, server.peer);
  }
  return record;
}

/**
 * Per scenario and repetition, the profiled targets side by side in µs per message (or
 * session): the profile covers the measured window, so its units are the window's count.
 */
function profileComparisons(
  summaries: ReadonlyMap<RunRecord, ProfileSummary>,
  specs: readonly ScenarioSpec[],
): string[] {
  const groups = new Map<string, { scenario: string; runs: ProfiledRun[] }>();
  for (const [record, summary] of summaries) {
    if (record.error !== undefined || record.count === undefined || record.count <= 0) continue;
    const key = `${record.scenario} rep${record.rep + 1}`;
    const group = groups.get(key) ?? { scenario: record.scenario, runs: [] };
    group.runs.push({ target: record.target, summary, units: record.count });
    groups.set(key, group);
  }
  const texts: string[] = [];
  for (const [title, { scenario, runs }] of groups) {
    if (runs.length < 2) continue;
    const kind = specs.find((spec) => spec.id === scenario)?.kind;
    const unit = kind === 'fan-out' ? 'delivered message' : kind === 'open-close' ? 'session' : 'message';
    texts.push(comparisonText(title, unit, runs));
  }
  return texts;
}

function profileName(record: RunRecord): string {
  return `${record.scenario}.${record.target}.rep${record.rep + 1}`;
}

function describe(record: RunRecord): string {
  if (record.error !== undefined) return `FAILED: ${record.error}`;
  if (record.rssPerSession !== undefined) {
    return `${(record.rssPerSession / 1024).toFixed(1)} KiB RSS/session, ${((record.heapPerSession ?? 0) / 1024).toFixed(1)} KiB heap/session (${record.sessions} sessions)`;
  }
  return (
    `${(record.cpuPerUnitUs ?? NaN).toFixed(1)} us CPU/unit, ${Math.round(record.ratePerSecond ?? 0)}/s, ` +
    `p50 ${(record.p50 ?? NaN).toFixed(2)} ms, p99 ${(record.p99 ?? NaN).toFixed(2)} ms, ` +
    `server ${Math.round((record.serverCpu ?? 0) * 100)}% client ${Math.round((record.clientCpu ?? 0) * 100)}% ` +
    `other ${Number.isFinite(record.otherCpu) ? Math.round((record.otherCpu ?? 0) * 100) + '%' : '?'}` +
    (record.errors ? `, ${record.errors} errors` : '')
  );
}

/**
 * The `idle-scale` scenario, after the others (its servers hold thousands of sessions for
 * minutes): measured, written to idle-scale.{md,json,svg} as `npm run bench:idle-scale`
 * writes them, and returned for the goals table; null when it could not run, the rest of
 * the run's results kept.
 */
async function idleScale(
  options: Options,
  pins: { server: string[]; client: string[]; text: string },
  command: string,
  outDir: string,
): Promise<IdleScaleRun | null> {
  const scaleOptions = embeddedOptions({
    quick: options.quick,
    reps: options.repsGiven ? options.reps : null,
    steps: options.idleScaleSteps,
    targets: options.targets,
  });
  console.log(`\n${IDLE_SCALE_ID}: idle sessions in steps`);
  if (scaleOptions.targets.length === 0) {
    console.log(`  none of ${EMBEDDED_TARGETS.join(', ')} among the targets: not run`);
    return null;
  }
  console.log(
    `  steps ${scaleOptions.steps.join(', ')}; heartbeat ${scaleOptions.heartbeatMs} ms, ` +
      `${scaleOptions.windowMs} ms window; ${scaleOptions.reps} repetition(s)`,
  );
  const started = Date.now();
  try {
    const records = await measureIdleScale(scaleOptions, pins);
    const scale: IdleScaleRun = { info: scaleInfoOf(scaleOptions, command, pins.text), records };
    const { paths } = await writeIdleScale(outDir, 'idle-scale', scale.info, records);
    console.log(`  written: ${paths.join(', ')} (${Math.round((Date.now() - started) / 1000)} s)`);
    return scale;
  } catch (error) {
    console.log(`  FAILED: ${error instanceof Error ? error.message : String(error)}`);
    return null;
  } finally {
    killChildren();
  }
}

/**
 * Each scenario of the run that interleave-run.ts can run (the goal scenarios it can pair in
 * time, and the paced ping-pong), measured again with its targets interleaved, in a process
 * of its own on the load generator's core (it is the load generator); a scenario that fails
 * is reported and left out, the rest of the run kept.
 */
async function interleaveScenarios(
  options: Options,
  runnable: readonly { spec: ScenarioSpec; targets: RunTarget[] }[],
  pins: { client: string[] },
): Promise<InterleavedRun[]> {
  const runs: InterleavedRun[] = [];
  if (options.interleaveSets === 0 || options.profile) return runs;
  for (const { spec, targets } of runnable) {
    const scenario = INTERLEAVED_SCENARIOS.find((id) => id === spec.id);
    if (scenario === undefined || targets.length < 2) continue;
    console.log(
      `\n${scenario} interleaved: ${targets.join(', ')}; ${options.interleaveSets} set(s) of ` +
        `${options.interleaveRounds} rounds, ${INTERLEAVE_WINDOW_MS} ms windows`,
    );
    const dir = mkdtempSync(join(tmpdir(), 'sockjs-express-interleave-'));
    const path = join(dir, 'run.json');
    const args = [
      join(__dirname, 'interleave.js'),
      ...['--scenario', scenario, '--targets', targets.join(',')],
      ...['--sets', String(options.interleaveSets), '--rounds', String(options.interleaveRounds)],
      ...['--window', String(INTERLEAVE_WINDOW_MS), '--json', path],
      ...(options.baseline === null ? [] : ['--baseline', options.baseline]),
    ];
    try {
      const child = start(pins.client, args, `${scenario} interleaved`);
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      if (code !== 0) throw new Error(`exited with ${code}`);
      runs.push(JSON.parse(readFileSync(path, 'utf8')) as InterleavedRun);
    } catch (error) {
      console.log(`  FAILED: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      killChildren();
    }
  }
  return runs;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const pins = pinning(options.pin, options.nice);
  const baseline = options.baseline === null ? null : prepareBaseline(options.baseline);
  const runnable = options.scenarios
    .map((spec) => ({
      spec,
      targets: withTwins(
        targetsFor(spec).filter((t) => options.targets.includes(t)),
        baseline !== null,
      ),
    }))
    .filter((entry) => entry.targets.length > 0);
  const targetsRun = withTwins(options.targets, baseline !== null);
  if (baseline !== null)
    await checkBaseline([...new Set(runnable.flatMap((entry) => entry.targets))], baseline, pins);
  const repsOf = (spec: ScenarioSpec): number => {
    const wanted =
      options.repsGiven || options.quick ? options.reps : Math.max(options.reps, spec.minReps ?? 0);
    return Math.min(wanted, spec.maxReps ?? wanted);
  };
  const totalRuns = runnable.reduce((n, entry) => n + entry.targets.length * repsOf(entry.spec), 0);
  console.log(
    `${runnable.length} scenario(s), ${totalRuns} runs, ${options.reps} repetition(s); ${pins.text}` +
      (options.idleScale ? `; then ${IDLE_SCALE_ID}` : '') +
      (options.profile ? '; profiling servers' : '') +
      (baseline === null ? '' : `; library targets twinned with ${baseline.sha.slice(0, 12)} (@base)`),
  );
  mkdirSync(options.outDir, { recursive: true });
  if (options.profile) mkdirSync(join(options.outDir, 'profiles'), { recursive: true });

  const loadGenerator = new LoadGenerator(pins.client);
  const records: RunRecord[] = [];
  const started = Date.now();
  let done = 0;
  try {
    for (const { spec, targets } of runnable) {
      console.log(`\n${spec.id}: ${spec.title}`);
      if (spec.kind === 'idle-cpu') {
        const sessions = heartbeatSessions(options, spec);
        const wanted = options.heartbeatSessions ?? spec.sessions;
        console.log(
          `  ${sessions} sessions` +
            (sessions < wanted ? ` (not ${wanted}: the open-file limit is ${openFileLimit()})` : '') +
            `, ${(spec.windowMs ?? options.durationMs) / 1000} s measured, ${repsOf(spec)} repetition(s)`,
        );
      }
      for (let rep = 0; rep < repsOf(spec); rep++) {
        for (const target of runOrder(targets, rep)) {
          const record = await runOnce(options, spec, target, rep, loadGenerator, pins, baseline);
          records.push(record);
          done++;
          console.log(`  [${done}/${totalRuns}] rep ${rep + 1} ${target.padEnd(26)} ${describe(record)}`);
        }
      }
    }
  } finally {
    await loadGenerator.close();
    killChildren();
  }

  const command =
    (process.env['BENCH_PUBLIC_ONLY'] ? `BENCH_PUBLIC_ONLY=${process.env['BENCH_PUBLIC_ONLY']} ` : '') +
    'npm run bench' +
    (process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : '');
  // A profiled run's figures carry the profiler's overhead: they go beside the profiles
  // (not kept in git), never over the last real results.
  const resultDir = options.profile ? join(options.outDir, 'profiles') : options.outDir;
  const interleaved = await interleaveScenarios(options, runnable, pins);
  const scale = options.idleScale ? await idleScale(options, pins, command, resultDir) : null;

  const info: RunInfo = {
    date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    command,
    node: process.version,
    cpu: cpus()[0]?.model.trim() ?? 'unknown CPU',
    cores: cpus().length,
    pinning: pins.text,
    reps: options.reps,
    repsByScenario: Object.fromEntries(runnable.map(({ spec }) => [spec.id, repsOf(spec)])),
    warmupMs: options.warmupMs,
    durationMs: options.durationMs,
    profiling: options.profile,
    openFileLimit: openFileLimit(),
    wsAddons: wsAddons(),
    baseline: baseline === null ? null : { ref: baseline.ref, sha: baseline.sha, subject: baseline.subject },
  };
  const specs = runnable.map((entry) => entry.spec);
  const summaries = summarize(specs, records, info.repsByScenario, targetsRun);
  const mdPath = join(resultDir, 'latest.md');
  const jsonPath = join(resultDir, 'latest.json');
  const md = await pretty(markdown(info, specs, summaries, records, scale, interleaved), mdPath);
  writeFileSync(mdPath, md);
  // The idle-scale records too (as idle-scale.json holds them): the goals table of this
  // file was judged on them, and must be made again from this file alone.
  const idleScaleJson = scale === null ? null : { info: scale.info, runs: scale.records };
  writeFileSync(
    jsonPath,
    await pretty(
      JSON.stringify({ info, summaries, runs: records, idleScale: idleScaleJson, interleaved }),
      jsonPath,
    ),
  );
  console.log('\n' + md);
  console.log(`written: ${mdPath}, ${jsonPath} (${Math.round((Date.now() - started) / 1000)} s)`);

  if (options.profile) {
    const texts: string[] = [];
    // Each profile is read once, for its own section and for the comparison.
    const summaries = new Map<RunRecord, ProfileSummary>();
    for (const record of records) {
      if (record.rssPerSession !== undefined) continue;
      const name = profileName(record);
      try {
        const summary = summarizeProfile(join(options.outDir, 'profiles', `${name}.cpuprofile`), 400);
        summaries.set(record, summary);
        texts.push(profileText(name, summary, 25));
      } catch (error) {
        texts.push(`## ${name}\nno profile: ${error instanceof Error ? error.message : String(error)}\n`);
      }
    }
    texts.push(...profileComparisons(summaries, specs));
    const profilePath = join(options.outDir, 'profiles', 'summary.txt');
    writeFileSync(profilePath, texts.join('\n'));
    console.log('\n' + texts.join('\n'));
    console.log(`written: ${profilePath}`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  killChildren();
  process.exit(1);
});
