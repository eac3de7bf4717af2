/**
 * After a full `npm run bench`: copies the goals table and the table of results per
 * scenario from bench/results/latest.md into docs/performance.md, where
 * spec/performance-docs.test.ts checks them row for row. The prose around them is written
 * by hand.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tableAfter } from '../bench/markdown-table';
import { COPIED_TABLES, PERFORMANCE_DOC as DOC, RUN_REPORT as RUN } from '../bench/performance-doc';

/** The repository root, from build/scripts/performance-tables.js. */
const ROOT = resolve(__dirname, '..', '..');

function tableIn(lines: readonly string[], heading: string, file: string): [number, number] {
  const range = tableAfter(lines, heading);
  if (range === null) throw new Error(`${file}: no table under "${heading}"`);
  return range;
}

const run = readFileSync(join(ROOT, RUN), 'utf8').split('\n');
const doc = readFileSync(join(ROOT, DOC), 'utf8').split('\n');
// Later tables first, so that the earlier one's line numbers still hold.
for (const { runHeading, docHeading } of [...COPIED_TABLES].reverse()) {
  const [from, to] = tableIn(run, runHeading, RUN);
  const [start, end] = tableIn(doc, docHeading, DOC);
  doc.splice(start, end - start, ...run.slice(from, to));
}
writeFileSync(join(ROOT, DOC), doc.join('\n'));
console.log(`${DOC}: goals and results tables copied from ${RUN}`);
