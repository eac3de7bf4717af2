/**
 * `npm run bench:interleave`: targets side by side (interleave-run.ts), from the command
 * line. This process is the load generator, on the load generator's core.
 *
 *   npm run bench:interleave -- --targets ours-http,bare-ws [--scenario ws-pingpong]
 *     [--sets 1] [--rounds 40] [--window 400] [--csv rounds.csv] [--json run.json]
 *     [--baseline REF]   (then a target may be <target>@base: its build at commit REF)
 *
 * It prints each target's CPU per unit over all rounds of all sets and, for each target,
 * its ratio to the last one listed: over all rounds, and the median (quartiles) of the
 * per-round ratios. `--csv`: each round's CPU per unit, one column per target, to set the
 * ratios beside the machine's phase (the last target's own figure) round by round.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { pinning } from './processes';
import { prepareBaseline, type Baseline } from './baseline';
import { TARGETS, currentOf, isBaseline, type RunTarget, type TargetName } from './scenarios';
import { INTERLEAVED_SCENARIOS, serves, titleOf, type InterleavedScenario } from './interleave-loads';
import { measureInterleaved, type InterleavedRun } from './interleave-run';

interface Options {
  targets: RunTarget[];
  scenario: InterleavedScenario;
  baseline: string | null;
  sets: number;
  rounds: number;
  windowMs: number;
  csv: string | null;
  json: string | null;
}

function parse(argv: string[]): Options {
  let targets: string[] = ['ours-http', 'bare-ws'];
  let scenario = 'ws-open-close';
  let sets = 1;
  let rounds = 40;
  let windowMs = 400;
  let csv: string | null = null;
  let json: string | null = null;
  let baseline: string | null = null;
  const count = (flag: string, value: string | undefined): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} needs a positive integer`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[++i];
    if (flag === '--targets') targets = (value ?? '').split(',');
    else if (flag === '--scenario') scenario = value ?? '';
    else if (flag === '--sets') sets = count(flag, value);
    // --windows: the name of --rounds when the tool took two targets only.
    else if (flag === '--rounds' || flag === '--windows') rounds = count(flag, value);
    else if (flag === '--window') windowMs = count(flag, value);
    else if (flag === '--csv') csv = value ?? null;
    else if (flag === '--json') json = value ?? null;
    else if (flag === '--baseline') baseline = value ?? null;
    else throw new Error(`unknown option ${flag}`);
  }
  if (!(INTERLEAVED_SCENARIOS as readonly string[]).includes(scenario))
    throw new Error(`--scenario is one of: ${INTERLEAVED_SCENARIOS.join(', ')}`);
  const chosen = scenario as InterleavedScenario;
  const usable = (Object.keys(TARGETS) as TargetName[]).filter((t) => serves(chosen, t));
  if (targets.length < 2 || new Set(targets).size !== targets.length)
    throw new Error('--targets needs two different targets or more');
  const unknown = targets.filter((t) => !(usable as string[]).includes(t.replace(/@base$/, '')));
  if (unknown.length > 0)
    throw new Error(`${chosen} does not run ${unknown.join(', ')}; it runs: ${usable.join(', ')}`);
  const runTargets = targets as RunTarget[];
  const twins = runTargets.filter(isBaseline);
  if (twins.length > 0 && baseline === null) throw new Error(`${twins.join(', ')} need --baseline`);
  if (twins.some((t) => !TARGETS[currentOf(t)].library))
    throw new Error('only library targets (ours-*) have @base twins');
  return { targets: runTargets, scenario: chosen, baseline, sets, rounds, windowMs, csv, json };
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.round(q * (sorted.length - 1))];
}

/** The printout: CPU per unit, and each target against the last one listed. */
function summary(run: InterleavedRun, targets: readonly RunTarget[]): string[] {
  const lines = [
    `${titleOf(run.scenario)}: ${run.sets.length} set(s) of ${run.rounds} rounds, ${run.windowMs} ms windows`,
  ];
  const total = (target: RunTarget): { cpu: number; units: number; rounds: number[] } => {
    const figures = run.sets.flatMap((set) => set.filter((f) => f.target === target));
    return {
      cpu: figures.reduce((n, f) => n + f.cpuMicros, 0),
      units: figures.reduce((n, f) => n + f.units, 0),
      rounds: figures.flatMap((f) => f.perRound),
    };
  };
  const reference = total(targets[targets.length - 1]);
  for (const target of targets) {
    const own = total(target);
    let text = `  ${target.padEnd(24)} ${(own.cpu / own.units).toFixed(1)} µs/${run.unit} (${own.units} ${run.unit}s)`;
    if (target !== targets[targets.length - 1]) {
      const ratios = own.rounds.map((v, i) => v / reference.rounds[i]).sort((x, y) => x - y);
      text +=
        `; ÷ ${targets[targets.length - 1]}: ${(own.cpu / own.units / (reference.cpu / reference.units)).toFixed(3)} ` +
        `over all rounds, per round median ${quantile(ratios, 0.5).toFixed(3)} ` +
        `(quartiles ${quantile(ratios, 0.25).toFixed(3)}–${quantile(ratios, 0.75).toFixed(3)})`;
    }
    lines.push(text);
  }
  return lines;
}

function csvOf(run: InterleavedRun, targets: readonly RunTarget[]): string {
  const rows = [['set', 'round', ...targets].join(',')];
  run.sets.forEach((figures, set) => {
    for (let round = 0; round < run.rounds; round++) {
      const cells = targets.map(
        (t) => figures.find((f) => f.target === t)?.perRound[round]?.toFixed(3) ?? '',
      );
      rows.push([set, round, ...cells].join(','));
    }
  });
  return rows.join('\n') + '\n';
}

async function main(): Promise<void> {
  const options = parse(process.argv.slice(2));
  const pins = pinning(true, null);
  const baseline: Baseline | null = options.baseline === null ? null : prepareBaseline(options.baseline);
  if (pins.client.length > 0)
    spawnSync('taskset', ['-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
  const run = await measureInterleaved({
    ...options,
    serverPrefix: pins.server,
    envOf: (target): Record<string, string> =>
      isBaseline(target) && baseline !== null ? { SOCKJS_EXPRESS_LIB: baseline.lib } : {},
    onSet: (set, figures) =>
      console.error(
        `  set ${set + 1}/${options.sets}: ` +
          figures.map((f) => `${f.target} ${(f.cpuMicros / f.units).toFixed(1)}`).join(', '),
      ),
  });
  console.log(summary(run, options.targets).join('\n'));
  if (options.csv !== null) writeFileSync(options.csv, csvOf(run, options.targets));
  if (options.json !== null) writeFileSync(options.json, JSON.stringify(run));
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
