/**
 * Which tables of a full run's report docs/performance.md carries: the script that copies
 * them (scripts/performance-tables.ts) and the spec that checks them
 * (spec/performance-docs.test.ts) read the same list.
 */

/** The report of the saved full run, from the repository root. */
export const RUN_REPORT = 'bench/results/latest.md';
/** The document that reports it, from the repository root. */
export const PERFORMANCE_DOC = 'docs/performance.md';

/** A table of the run's report and the heading it sits under in the document. */
export interface CopiedTable {
  readonly what: string;
  readonly runHeading: string;
  readonly docHeading: string;
}

/** In the order they appear in both files. */
export const COPIED_TABLES: readonly CopiedTable[] = [
  { what: 'goals table', runHeading: '## Goals', docHeading: '## Goals, from one full run' },
  { what: 'table of results per scenario', runHeading: '## Summary', docHeading: '## The latest results' },
];
