/**
 * After a full `npm run bench`: copies the goals table and the table of results per
 * scenario from bench/results/latest.md into docs/performance.md, where
 * spec/performance-docs.test.ts checks them row for row. The prose around them is written
 * by hand.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tableAfter } from '../bench/markdown-table';

/** The repository root, from build/scripts/performance-tables.js. */
const ROOT = resolve(__dirname, '..', '..');
const RUN = 'bench/results/latest.md';
const DOC = 'docs/performance.md';

function tableIn(lines: readonly string[], heading: string, file: string): [number, number] {
  const range = tableAfter(lines, heading);
  if (range === null) throw new Error(`${file}: no table under "${heading}"`);
  return range;
}

const run = readFileSync(join(ROOT, RUN), 'utf8').split('\n');
const doc = readFileSync(join(ROOT, DOC), 'utf8').split('\n');
// Later tables first, so that the earlier one's line numbers still hold.
const pairs = [
  ['## Summary', '## The latest results'],
  ['## Goals', '## Goals, from one full run'],
] as const;
for (const [runHeading, docHeading] of pairs) {
  const [from, to] = tableIn(run, runHeading, RUN);
  const [start, end] = tableIn(doc, docHeading, DOC);
  doc.splice(start, end - start, ...run.slice(from, to));
}
writeFileSync(join(ROOT, DOC), doc.join('\n'));
console.log(`${DOC}: goals and results tables copied from ${RUN}`);
