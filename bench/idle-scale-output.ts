/** The idle-scale run's three files: the Markdown report, the raw figures, the chart. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pretty } from './host';
import { chartOf, markdownOf } from './idle-scale-report';
import type { ScaleInfo, StepRecord } from './idle-scale-figures';
import { lineChart } from './svg-chart';

/** Writes `<name>.{md,json,svg}` into outDir; returns the Markdown and the paths. */
export async function writeIdleScale(
  outDir: string,
  name: string,
  info: ScaleInfo,
  records: readonly StepRecord[],
): Promise<{ md: string; paths: string[] }> {
  mkdirSync(outDir, { recursive: true });
  const paths = ['md', 'json', 'svg'].map((ext) => join(outDir, `${name}.${ext}`));
  const md = await pretty(markdownOf(info, records, `${name}.svg`), paths[0]);
  writeFileSync(paths[0], md);
  writeFileSync(paths[1], await pretty(JSON.stringify({ info, runs: records }), paths[1]));
  writeFileSync(paths[2], lineChart(chartOf(info, records)));
  return { md, paths };
}
