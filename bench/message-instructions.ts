/**
 * `npm run bench:message-instructions`: what an echo scenario's message costs a server in
 * instructions rather than CPU time. Each server runs under valgrind's callgrind, which
 * counts the instructions it runs in user space the same whatever else the machine does
 * and whichever of its speeds a process settled in; after a warm-up of the scenario's own
 * closed-loop load (V8 has optimized what the load runs), the load runs on in an
 * instrumented window and the load generator counts its messages. With `--cache-sim`,
 * callgrind also simulates the caches and branch predictor: misses per message, which the
 * instruction count alone does not show. Writes bench/results/message-instructions.{md,json}.
 *
 *   npm run bench:message-instructions
 *   npm run bench:message-instructions -- --scenario xhr-polling --target ours-http,bare-http --reps 1 --label smoke
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ClientTarget, LoadResult } from './ipc';
import type { IpcPeer } from './ipc';
import { killChildren, pinning, startServer, stop } from './processes';
import { SCENARIOS, TARGETS, targetsFor, type ScenarioSpec, type TargetName } from './scenarios';
import { pretty } from './host';
import { InstructionWindow, callgrindPrefix } from './callgrind';
import { countedWindow } from './counted-window';
import {
  markdownOf,
  type MessageInstructionRecord,
  type MessageInstructionRun,
} from './message-instructions-report';
import { commaList, positiveInteger } from './cli-values';
import { LoadGenerator } from './load-generator';

interface Options {
  scenarios: ScenarioSpec[];
  targets: TargetName[] | null;
  reps: number;
  warmUpMessages: number;
  windowMs: number;
  cacheSim: boolean;
  pin: boolean;
  outDir: string;
  label: string | null;
  report: string | null;
}

const HELP = `Usage: npm run bench:message-instructions -- [options]
  --scenario a,b    echo scenarios of npm run bench (default xhr-polling)
  --target a,b      default the scenario's targets in npm run bench
  --reps N          repetitions, targets alternating (default 2)
  --warm-up N       messages of uninstrumented load before the window (default 20000)
  --window MS       instrumented window (default 20000)
  --cache-sim       also simulate caches and branch prediction (slower)
  --no-pin          do not pin server and load generator to cores
  --out DIR         default bench/results
  --label NAME      write message-instructions-NAME.{md,json}
  --report FILE     no run: write the Markdown of a run's saved FILE.json again, beside it`;

/** Node and valgrind starting together take seconds, not milliseconds. */
const START_MS = 120_000;
/** The uninstrumented load is read in slices of this length until the warm-up is done. */
const WARM_UP_SLICE_MS = 5000;

function parseArgs(argv: string[]): Options {
  const options: Options = {
    scenarios: SCENARIOS.filter((s) => s.id === 'xhr-polling'),
    targets: null,
    reps: 2,
    warmUpMessages: 20_000,
    windowMs: 20_000,
    cacheSim: false,
    pin: true,
    outDir: resolve(__dirname, '../../bench/results'),
    label: null,
    report: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string | undefined => argv[++i];
    switch (flag) {
      case '--scenario':
        options.scenarios = commaList(value()).map((id) => {
          const spec = SCENARIOS.find((s) => s.id === id);
          if (spec === undefined || spec.kind !== 'echo' || spec.offeredPerSecond !== undefined)
            throw new Error(`${id} is not a closed-loop echo scenario of npm run bench`);
          return spec;
        });
        break;
      case '--target':
        options.targets = commaList(value()).map((name) => {
          if (!(name in TARGETS)) throw new Error(`unknown target ${name}`);
          return name as TargetName;
        });
        break;
      case '--reps':
        options.reps = positiveInteger(flag, value());
        break;
      case '--warm-up':
        options.warmUpMessages = positiveInteger(flag, value());
        break;
      case '--window':
        options.windowMs = positiveInteger(flag, value());
        break;
      case '--cache-sim':
        options.cacheSim = true;
        break;
      case '--no-pin':
        options.pin = false;
        break;
      case '--out':
        options.outDir = resolve(value() ?? '.');
        break;
      case '--label':
        options.label = value() ?? null;
        break;
      case '--report':
        options.report = resolve(value() ?? '');
        break;
      case '--help':
      case '-h':
        console.log(HELP);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${flag}\n${HELP}`);
    }
  }
  return options;
}

/** One server under callgrind: the warm-up, then one instrumented window of the same load. */
async function measureOne(
  options: Options,
  spec: ScenarioSpec,
  target: TargetName,
  rep: number,
  client: IpcPeer,
  serverPins: string[],
): Promise<MessageInstructionRecord> {
  const record: MessageInstructionRecord = { scenario: spec.id, target, rep };
  const outDir = mkdtempSync(join(tmpdir(), 'message-instructions-'));
  const simulation = options.cacheSim ? ['--cache-sim=yes', '--branch-sim=yes'] : [];
  try {
    const server = await startServer(
      target,
      [...serverPins, ...callgrindPrefix(outDir), ...simulation],
      {},
      [],
      START_MS,
    );
    try {
      // taskset and valgrind exec what follows them: valgrind runs node in this same process.
      const pid = server.child.pid;
      if (pid === undefined) throw new Error(`${target} has no pid`);
      const clientTarget: ClientTarget = { name: target, port: server.port, wire: TARGETS[target].wire };
      await client.request(
        { type: 'setup', spec: { ...spec, openTimeoutMs: START_MS }, target: clientTarget },
        2 * START_MS,
      );
      let warmed = 0;
      while (warmed < options.warmUpMessages) {
        const slice = await client.request<LoadResult>(
          { type: 'measure', durationMs: WARM_UP_SLICE_MS },
          WARM_UP_SLICE_MS + 60_000,
        );
        if (slice.count === 0) throw new Error(`no message echoed in ${WARM_UP_SLICE_MS} ms of warm-up`);
        warmed += slice.count;
      }
      record.warmUpMessages = warmed;
      const { totals, split, load } = await countedWindow(
        new InstructionWindow(pid, outDir),
        client,
        options.windowMs,
      );
      record.messages = load.count;
      record.errors = load.errors;
      record.events = totals;
      record.collectorInstructions = split.collector;
      record.compilerInstructions = split.compiler;
      await client.request({ type: 'teardown' }, 60_000);
    } finally {
      await stop(server.child, server.peer);
    }
  } catch (error) {
    record.error = error instanceof Error ? error.message : String(error);
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
  return record;
}

function describe(r: MessageInstructionRecord): string {
  if (r.error !== undefined) return `FAILED: ${r.error}`;
  const perMessage = (r.events?.['Ir'] ?? NaN) / (r.messages ?? NaN);
  return `${Math.round(perMessage).toLocaleString('en-US')} instructions per message over ${r.messages} messages`;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  if (options.report !== null) {
    const saved = JSON.parse(readFileSync(options.report, 'utf8')) as MessageInstructionRun;
    const md = options.report.replace(/\.json$/, '.md');
    writeFileSync(md, await pretty(markdownOf(saved), md));
    console.log(`written: ${md}`);
    return;
  }
  const pins = pinning(options.pin, null);
  const records: MessageInstructionRecord[] = [];
  const generator = new LoadGenerator(pins.client);
  try {
    for (let rep = 0; rep < options.reps; rep++) {
      for (const spec of options.scenarios) {
        const targets = targetsFor(spec).filter((t) =>
          options.targets === null ? TARGETS[t].byDefault : options.targets.includes(t),
        );
        // Alternate the order, as npm run bench does: no target always first after a start.
        if (rep % 2 === 1) targets.reverse();
        for (const target of targets) {
          const record = await measureOne(options, spec, target, rep, generator.get(), pins.server);
          console.log(`  rep ${rep + 1} ${spec.id} ${target.padEnd(22)} ${describe(record)}`);
          records.push(record);
          if (record.error !== undefined) await generator.restart();
        }
      }
    }
  } finally {
    await generator.close();
  }
  const run: MessageInstructionRun = {
    info: {
      date: new Date().toISOString(),
      command: `npm run bench:message-instructions -- ${process.argv.slice(2).join(' ')}`.trim(),
      node: process.version,
      pinning: pins.text,
      warmUpMessages: options.warmUpMessages,
      windowMs: options.windowMs,
      reps: options.reps,
      cacheSim: options.cacheSim,
    },
    records,
  };
  const name = options.label === null ? 'message-instructions' : `message-instructions-${options.label}`;
  mkdirSync(options.outDir, { recursive: true });
  const json = join(options.outDir, `${name}.json`);
  const md = join(options.outDir, `${name}.md`);
  writeFileSync(json, await pretty(JSON.stringify(run, null, 2) + '\n', json));
  writeFileSync(md, await pretty(markdownOf(run), md));
  console.log(`written: ${md}, ${json}`);
  if (records.some((r) => r.error !== undefined)) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  killChildren();
  process.exit(1);
});
