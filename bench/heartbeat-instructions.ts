/**
 * `npm run bench:heartbeat-instructions`: the heartbeat cost of idle sessions in
 * instructions rather than CPU time. Each server runs under valgrind's callgrind, which
 * counts the instructions it runs in user space the same whatever else the machine does;
 * at each step of idle sessions it counts them over a window of several heartbeat periods.
 * Writes bench/results/heartbeat-instructions.{md,json}.
 *
 *   npm run bench:heartbeat-instructions
 *   npm run bench:heartbeat-instructions -- --steps 200,400,800 --reps 1 --target ours-http --label smoke
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { killChildren, pinning } from './processes';
import { TARGETS, type TargetName } from './scenarios';
import { pretty } from './host';
import { SERVER_FLAGS, capSteps, type ScaleTransport } from './idle-scale-measure';
import { callgrindPrefix } from './callgrind';
import {
  INSTRUCTION_FLAGS,
  measureInstructions,
  type InstructionOptions,
} from './heartbeat-instructions-measure';
import type { InstructionInfo, InstructionRecord } from './heartbeat-instructions-figures';
import { markdownOf } from './heartbeat-instructions-report';
import { splitFromDumps } from './heartbeat-instructions-dumps';
import { commaList, positiveInteger } from './cli-values';

interface Options extends InstructionOptions {
  report: string | null;
  pin: boolean;
  outDir: string;
  label: string | null;
}

/**
 * 5 s, as idle-scale's. Instrumented, a server runs some tens of times slower, and the
 * steps are those it keeps up with at this period: sockjs-node at 1,000 websocket sessions
 * sent every session its four heartbeats in a window of four periods, at 2,000 only 3.62
 * and at 4,000 2.44 (7 M instructions a second at 1,000, 13 M at 2,000: its timers came
 * late once the process was busy).
 */
const HEARTBEAT_MS = 5000;

const HELP = `Usage: npm run bench:heartbeat-instructions -- [options]
  --steps a,b,...   idle sessions at each step, opened one step after the other in the same
                    server (default 250,500,1000)
  --target a,b      default ours-http,sockjs-node,bare-ws,bare-http (bare-ws: websocket
                    only; bare-http: xhr-streaming only)
  --transport a,b   websocket, xhr-streaming (default both)
  --heartbeat MS    heartbeat period of every target (default ${HEARTBEAT_MS})
  --window MS       instrumented window per step (default four heartbeat periods)
  --settle MS       uninstrumented load before each window (default three heartbeat periods)
  --warm-up MS      the largest step held uninstrumented before the steps (default four periods)
  --reps N          repetitions, targets alternating (default 2)
  --node-flag F     one more Node option for every server (repeatable)
  --dumps DIR       keep callgrind's dumps in DIR, one directory per server (callgrind_annotate)
  --no-pin          do not pin server and load generator to cores
  --out DIR         default bench/results
  --label NAME      write heartbeat-instructions-NAME.{md,json}
  --report FILE     no run: write the Markdown of a run's saved FILE.json again, beside it;
                    with --dumps DIR, the run's kept dumps give each window's split again`;

function parseArgs(argv: string[]): Options {
  const options: Options = {
    steps: [250, 500, 1000],
    targets: ['ours-http', 'sockjs-node', 'bare-ws', 'bare-http'],
    transports: ['websocket', 'xhr-streaming'],
    heartbeatMs: HEARTBEAT_MS,
    windowMs: 0,
    settleMs: 0,
    warmUpMs: 0,
    reps: 2,
    report: null,
    pin: true,
    outDir: resolve(__dirname, '../../bench/results'),
    label: null,
    dumpDir: null,
    nodeFlags: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string | undefined => argv[++i];
    switch (flag) {
      case '--steps':
        options.steps = commaList(value()).map((v) => positiveInteger(flag, v));
        if (options.steps.some((n, j) => j > 0 && n <= options.steps[j - 1]))
          throw new Error('--steps must grow from one step to the next');
        break;
      case '--target':
        options.targets = commaList(value()).map((name) => {
          if (!(name in TARGETS)) throw new Error(`unknown target ${name}`);
          return name as TargetName;
        });
        break;
      case '--transport':
        options.transports = commaList(value()).map((t): ScaleTransport => {
          if (t !== 'websocket' && t !== 'xhr-streaming')
            throw new Error('--transport takes websocket, xhr-streaming');
          return t;
        });
        break;
      case '--heartbeat':
        options.heartbeatMs = positiveInteger(flag, value());
        break;
      case '--window':
        options.windowMs = positiveInteger(flag, value());
        break;
      case '--settle':
        options.settleMs = positiveInteger(flag, value());
        break;
      case '--warm-up':
        options.warmUpMs = positiveInteger(flag, value());
        break;
      case '--reps':
        options.reps = positiveInteger(flag, value());
        break;
      case '--node-flag':
        options.nodeFlags.push(value() ?? '');
        break;
      case '--dumps':
        options.dumpDir = resolve(value() ?? '.');
        mkdirSync(options.dumpDir, { recursive: true });
        break;
      case '--no-pin':
        options.pin = false;
        break;
      case '--out':
        options.outDir = resolve(value() ?? '.');
        break;
      case '--report':
        options.report = resolve(value() ?? '');
        break;
      case '--label':
        options.label = value() ?? null;
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
  if (options.windowMs === 0) options.windowMs = 4 * options.heartbeatMs;
  if (options.settleMs === 0) options.settleMs = 3 * options.heartbeatMs;
  if (options.warmUpMs === 0) options.warmUpMs = 4 * options.heartbeatMs;
  options.steps = capSteps(options.steps);
  if (options.steps.length < 3) throw new Error('three steps at least: two slopes to compare');
  return options;
}

function valgrindVersion(): string {
  return execFileSync('valgrind', ['--version'], { encoding: 'utf8' }).trim();
}

/** The Markdown of a saved run, written again (after a change to the report alone). */
async function rewriteReport(jsonPath: string, dumpDir: string | null): Promise<void> {
  const { info, runs } = JSON.parse(readFileSync(jsonPath, 'utf8')) as {
    info: InstructionInfo;
    runs: InstructionRecord[];
  };
  if (dumpDir !== null) {
    console.log(`${splitFromDumps(runs, dumpDir)} windows split from the dumps in ${dumpDir}`);
    writeFileSync(jsonPath, await pretty(JSON.stringify({ info, runs }), jsonPath));
  }
  const mdPath = jsonPath.replace(/\.json$/, '.md');
  writeFileSync(mdPath, await pretty(markdownOf(info, runs), mdPath));
  console.log(`written: ${mdPath}`);
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  if (options.report !== null) return rewriteReport(options.report, options.dumpDir);
  const pins = pinning(options.pin, null);
  const started = Date.now();
  const info: InstructionInfo = {
    date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    command:
      'npm run bench:heartbeat-instructions' +
      (process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''),
    node: process.version,
    valgrind: valgrindVersion(),
    // The options that decide what is counted; the output paths are a temporary directory's.
    valgrindOptions: callgrindPrefix('.').filter((o) => !o.includes('-file=')),
    serverFlags: [...SERVER_FLAGS, ...INSTRUCTION_FLAGS, ...options.nodeFlags],
    pinning: pins.text,
    steps: options.steps,
    heartbeatMs: options.heartbeatMs,
    windowMs: options.windowMs,
    settleMs: options.settleMs,
    warmUpMs: options.warmUpMs,
    reps: options.reps,
  };
  console.log(
    `idle sessions in steps of ${options.steps.join(', ')} under callgrind; heartbeat ${options.heartbeatMs} ms, ` +
      `${options.windowMs} ms window after ${options.settleMs} ms; ${options.reps} repetition(s); ${pins.text}`,
  );
  let records;
  try {
    records = await measureInstructions(options, pins);
  } finally {
    killChildren();
  }
  const name = options.label === null ? 'heartbeat-instructions' : `heartbeat-instructions-${options.label}`;
  mkdirSync(options.outDir, { recursive: true });
  const [mdPath, jsonPath] = ['md', 'json'].map((ext) => join(options.outDir, `${name}.${ext}`));
  const md = await pretty(markdownOf(info, records), mdPath);
  writeFileSync(mdPath, md);
  writeFileSync(jsonPath, await pretty(JSON.stringify({ info, runs: records }), jsonPath));
  console.log('\n' + md);
  console.log(`written: ${mdPath}, ${jsonPath} (${Math.round((Date.now() - started) / 1000)} s)`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  killChildren();
  process.exit(1);
});
