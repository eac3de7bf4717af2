// After a full `npm run bench`: copies the goals table and the table of results per scenario
// from bench/results/latest.md into docs/performance.md, where spec/performance-docs.test.ts
// checks them row for row. The prose around them is written by hand.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const runPath = join(root, 'bench/results/latest.md');
const docPath = join(root, 'docs/performance.md');

/** The line range [start, end) of the first table after the heading line `heading`. */
function tableAfter(lines, heading, file) {
  const at = lines.indexOf(heading);
  if (at === -1) throw new Error(`${file}: no heading "${heading}"`);
  let start = at + 1;
  while (start < lines.length && !lines[start].startsWith('|')) {
    if (lines[start].startsWith('#')) throw new Error(`${file}: no table under "${heading}"`);
    start++;
  }
  let end = start;
  while (end < lines.length && lines[end].startsWith('|')) end++;
  if (end === start) throw new Error(`${file}: no table under "${heading}"`);
  return [start, end];
}

const run = readFileSync(runPath, 'utf8').split('\n');
const doc = readFileSync(docPath, 'utf8').split('\n');
// Later tables first, so that the earlier one's line numbers still hold.
const pairs = [
  ['## Summary', '## The latest results'],
  ['## Goals', '## Goals, from one full run'],
];
for (const [runHeading, docHeading] of pairs) {
  const [from, to] = tableAfter(run, runHeading, 'bench/results/latest.md');
  const [start, end] = tableAfter(doc, docHeading, 'docs/performance.md');
  doc.splice(start, end - start, ...run.slice(from, to));
}
writeFileSync(docPath, doc.join('\n'));
console.log('docs/performance.md: goals and results tables copied from bench/results/latest.md');
