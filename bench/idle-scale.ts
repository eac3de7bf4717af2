/**
 * `npm run bench:idle-scale`: the cost of idle sessions as their number grows. One server
 * per target and transport opens idle sessions in steps (1,000, 2,000, 5,000, 10,000,
 * 18,000 by default) and at each step reports memory per session after a full GC and the
 * server CPU per second its heartbeats and expiry sweep cost, with a heartbeat shortened
 * to BENCH_HEARTBEAT_MS so that a window of seconds holds several of them. The measuring
 * is idle-scale-measure.ts's, which `npm run bench` runs too (its `idle-scale` scenario).
 *
 *   npm run bench:idle-scale
 *   npm run bench:idle-scale -- --idle-steps 500,1000 --reps 1 --window 5000 --label smoke
 */
import { resolve } from 'node:path';
import { killChildren, pinning } from './processes';
import { TARGETS, type TargetName } from './scenarios';
import { SPARE_FILE_DESCRIPTORS } from './host';
import {
  DEFAULT_HEARTBEAT_MS,
  capSteps,
  measureIdleScale,
  scaleInfoOf,
  type ScaleOptions,
} from './idle-scale-measure';
import { writeIdleScale } from './idle-scale-output';
import { commaList, positiveInteger } from './cli-values';

interface Options extends ScaleOptions {
  pin: boolean;
  outDir: string;
  label: string | null;
}

const HELP = `Usage: npm run bench:idle-scale -- [options]
  --idle-steps a,b,...  idle sessions at each step, opened one step after the other in the
                        same server (default 1000,2000,5000,10000,18000; capped at the
                        open-file limit less ${SPARE_FILE_DESCRIPTORS})
  --target a,b          default ours-http,ours-express,sockjs-node,bare-ws,bare-http (bare-ws:
                        websocket only; bare-http: xhr-streaming only)
  --transport a,b       websocket, xhr-streaming (default both)
  --heartbeat MS        heartbeat period of every target during the run (default ${DEFAULT_HEARTBEAT_MS})
  --window MS           CPU window per step (default four heartbeat periods)
  --reps N              repetitions, targets alternating (default 2)
  --up-only             measure each step once, on the way up (by default every step
                        below the largest is measured again on the way back down)
  --no-pin              do not pin server and load generator to cores
  --out DIR             default bench/results
  --label NAME          write idle-scale-NAME.{md,json,svg} instead of idle-scale.*`;

function parseArgs(argv: string[]): Options {
  const options: Options = {
    steps: [1000, 2000, 5000, 10_000, 18_000],
    targets: ['ours-http', 'ours-express', 'sockjs-node', 'bare-ws', 'bare-http'],
    transports: ['websocket', 'xhr-streaming'],
    heartbeatMs: DEFAULT_HEARTBEAT_MS,
    windowMs: 0,
    reps: 2,
    down: true,
    pin: true,
    outDir: resolve(__dirname, '../../bench/results'),
    label: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string | undefined => argv[++i];
    switch (flag) {
      case '--idle-steps':
        options.steps = commaList(value()).map((v) => positiveInteger(flag, v));
        if (options.steps.some((n, j) => j > 0 && n <= options.steps[j - 1]))
          throw new Error('--idle-steps must grow from one step to the next');
        break;
      case '--target':
        options.targets = commaList(value()).map((name) => {
          if (!(name in TARGETS)) throw new Error(`unknown target ${name}`);
          return name as TargetName;
        });
        break;
      case '--transport':
        options.transports = commaList(value()).map((t) => {
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
      case '--reps':
        options.reps = positiveInteger(flag, value());
        break;
      case '--up-only':
        options.down = false;
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
  options.steps = capSteps(options.steps);
  return options;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const pins = pinning(options.pin, null);
  const started = Date.now();
  console.log(
    `idle sessions in steps of ${options.steps.join(', ')}; heartbeat ${options.heartbeatMs} ms, ` +
      `${options.windowMs} ms window; ${options.reps} repetition(s); ${pins.text}`,
  );
  let records;
  try {
    records = await measureIdleScale(options, pins);
  } finally {
    killChildren();
  }
  const info = scaleInfoOf(
    options,
    'npm run bench:idle-scale' + (process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''),
    pins.text,
  );
  const name = options.label === null ? 'idle-scale' : `idle-scale-${options.label}`;
  const { md, paths } = await writeIdleScale(options.outDir, name, info, records);
  console.log('\n' + md);
  console.log(`written: ${paths.join(', ')} (${Math.round((Date.now() - started) / 1000)} s)`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  killChildren();
  process.exit(1);
});
