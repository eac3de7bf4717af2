/** The `## Interleaved` section of a run's report: interleave-run.ts's figures, per scenario. */
import { SCENARIOS, floorFor, currentOf } from './scenarios';
import { fmtRatio, fmtSpread, pairedRatios, spread } from './stats';
import { tableLines } from './markdown-table';
import { perSet, type InterleavedRun } from './interleave-run';

export function interleavedSection(runs: readonly InterleavedRun[]): string[] {
  if (runs.length === 0) return [];
  const rows: string[][] = [];
  for (const run of runs) {
    const spec = SCENARIOS.find((s) => s.id === run.scenario);
    const floor = spec === undefined ? null : floorFor(spec);
    const targets = run.sets[0]?.map((figure) => figure.target) ?? [];
    const floorSeries = floor !== null && targets.includes(floor) ? perSet(run, floor) : null;
    for (const target of targets) {
      const own = perSet(run, target);
      rows.push([
        run.scenario,
        `\`${target}\``,
        `${fmtSpread(spread(own))} µs / ${run.unit}`,
        floorSeries === null || currentOf(target) === floor ? '' : fmtRatio(pairedRatios(own, floorSeries)),
      ]);
    }
  }
  const [first] = runs;
  return [
    '## Interleaved',
    '',
    `Each scenario here ran again with all of its targets at once (servers on the server core) and ` +
      `the load generator alternating between them in ${first.windowMs} ms windows, the order turning ` +
      `by one target each round: ${first.rounds} rounds per set, ${first.sets.length} set(s) of fresh ` +
      'processes (`npm run bench:interleave`). Server CPU per unit over each set: median over the sets ' +
      "(min–max); divided by the scenario's floor (`bare-ws`, `bare-http`), paired per set.",
    '',
    ...tableLines(['scenario', 'target', 'server CPU', '÷ floor'], rows),
    '',
  ];
}
