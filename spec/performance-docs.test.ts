/**
 * docs/performance.md against the full run it reports (bench/results/latest.md): its
 * goals table and its table of the latest results are the run's own, row for row, so a
 * new full run cannot land with the document still reporting the one before.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { tableAfter } from '../bench/markdown-table';
import { COPIED_TABLES, PERFORMANCE_DOC, RUN_REPORT } from '../bench/performance-doc';

/** The repository root, from build/spec/performance-docs.test.js. */
const ROOT = resolve(__dirname, '..', '..');

const read = (relativePath: string): string => readFileSync(join(ROOT, relativePath), 'utf8');

/** A table row with its cells' padding collapsed: prettier pads a column to its widest cell. */
function normalized(row: string): string {
  return row.trim().replace(/\s+/g, ' ');
}

/** The rows of the first table under `heading` (a whole heading line), normalized. */
function firstTableUnder(markdown: string, heading: string): string[] {
  const lines = markdown.split('\n');
  assert.notEqual(lines.indexOf(heading), -1, `no heading ${heading}`);
  const range = tableAfter(lines, heading);
  const rows = range === null ? [] : lines.slice(...range).map(normalized);
  assert.ok(rows.length > 2, `no table under ${heading}`);
  return rows;
}

describe('docs/performance.md reports the saved full run', () => {
  const run = read(RUN_REPORT);
  const docRows = new Set(
    read(PERFORMANCE_DOC)
      .split('\n')
      .filter((line) => line.startsWith('|'))
      .map(normalized),
  );

  for (const { what, runHeading } of COPIED_TABLES) {
    it(`carries the run's ${what}, row for row`, () => {
      const missing = firstTableUnder(run, runHeading).filter((row) => !docRows.has(row));
      assert.deepEqual(missing, [], `rows of ${RUN_REPORT} (${runHeading}) not in ${PERFORMANCE_DOC}`);
    });
  }
});
