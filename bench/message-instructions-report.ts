/** The Markdown of a `npm run bench:message-instructions` run. */
import { tableLines } from './markdown-table';
import { SCENARIOS, floorFor, type TargetName } from './scenarios';
import { fmtRatio, fmtSpread, pairedRatios, spread } from './stats';
import type { CallgrindTotals } from './callgrind';

/** One server, one repetition: what callgrind counted in its window, and the messages echoed. */
export interface MessageInstructionRecord {
  scenario: string;
  target: TargetName;
  rep: number;
  warmUpMessages?: number;
  messages?: number;
  errors?: number;
  /** callgrind's totals over the window: `Ir`, and with --cache-sim the misses. */
  events?: CallgrindTotals;
  /** Of `Ir`, what V8's collector ran (a full collection falls in one window and not the next). */
  collectorInstructions?: number;
  /** Of `Ir`, what V8's compilers ran. */
  compilerInstructions?: number;
  error?: string;
}

export interface MessageInstructionRun {
  info: {
    date: string;
    command: string;
    node: string;
    pinning: string;
    warmUpMessages: number;
    windowMs: number;
    reps: number;
    cacheSim: boolean;
  };
  records: MessageInstructionRecord[];
}

/** callgrind's simulated misses, by event name, as the tables call them. */
const MISS_EVENTS: readonly (readonly [string, readonly string[]])[] = [
  ['L1 instruction misses', ['I1mr']],
  ['L1 data misses', ['D1mr', 'D1mw']],
  ['last-level misses', ['ILmr', 'DLmr', 'DLmw']],
  ['mispredicted branches', ['Bcm', 'Bim']],
];

/**
 * A window the figures leave out: it failed, or the load generator saw errors in it (a
 * session the server closed, as it does when a poll comes later than its disconnect delay
 * allows: a window then has fewer messages for the same time-driven work).
 */
function leftOut(r: MessageInstructionRecord): string | null {
  if (r.error !== undefined) return `failed: ${r.error}`;
  if (r.errors !== undefined && r.errors > 0) return `left out: ${r.errors} load errors in the window`;
  if (r.events === undefined || !r.messages) return 'left out: no messages in the window';
  return null;
}

/** A figure per message in each repetition (null where that repetition has none). */
function perMessage(
  records: readonly MessageInstructionRecord[],
  reps: number,
  count: (r: MessageInstructionRecord, totals: CallgrindTotals) => number | undefined,
): (number | null)[] {
  const byRep: (number | null)[] = new Array<number | null>(reps).fill(null);
  for (const r of records) {
    if (leftOut(r) !== null || r.events === undefined || !r.messages) continue;
    const value = count(r, r.events);
    if (value !== undefined) byRep[r.rep] = value / r.messages;
  }
  return byRep;
}

/** The sum of `events`, undefined when the window did not count one of them. */
const eventSum =
  (events: readonly string[]) =>
  (_r: MessageInstructionRecord, totals: CallgrindTotals): number | undefined =>
    events.some((e) => totals[e] === undefined)
      ? undefined
      : events.reduce((sum, e) => sum + (totals[e] ?? 0), 0);

/** Instructions outside V8's collector and compilers, where the window has the split. */
const outsideCollectorAndCompilers = (
  r: MessageInstructionRecord,
  totals: CallgrindTotals,
): number | undefined =>
  totals['Ir'] === undefined || r.collectorInstructions === undefined || r.compilerInstructions === undefined
    ? undefined
    : totals['Ir'] - r.collectorInstructions - r.compilerInstructions;

const whole = (v: number): string => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '–');

export function markdownOf(run: MessageInstructionRun): string {
  const { info } = run;
  const lines: string[] = [
    '# Instructions per message',
    '',
    `${info.date.slice(0, 16).replace('T', ' ')} UTC, \`${info.command}\`, Node ${info.node}, ${info.pinning}. ` +
      `Each server under valgrind's callgrind (instructions in user space, every thread of the process); ` +
      `${info.warmUpMessages.toLocaleString('en-US')} messages of the scenario's closed-loop load first, uninstrumented, ` +
      `then a window of ${info.windowMs / 1000} s of the same load, instrumented, its messages counted by the load generator. ` +
      `${info.reps} repetition(s); median (min–max), ratios paired per repetition.` +
      (info.cacheSim ? ' Caches and branch prediction simulated (`--cache-sim`).' : ''),
    '',
  ];
  const scenarioIds = [...new Set(run.records.map((r) => r.scenario))];
  for (const id of scenarioIds) {
    const spec = SCENARIOS.find((s) => s.id === id);
    const records = run.records.filter((r) => r.scenario === id);
    const targets = [...new Set(records.map((r) => r.target))];
    type Count = (r: MessageInstructionRecord, totals: CallgrindTotals) => number | undefined;
    const of = (target: TargetName, count: Count): (number | null)[] =>
      perMessage(
        records.filter((r) => r.target === target),
        info.reps,
        count,
      );
    const floor = spec === undefined ? null : floorFor(spec);
    // The service mounted in an Express app, against the same app with empty handlers.
    const expressBaseline = (target: TargetName): TargetName | null =>
      target.startsWith('ours-express') ? 'express-baseline' : null;
    const ratioTo = (target: TargetName, reference: TargetName | null, count: Count): string =>
      reference === null || reference === target || !targets.includes(reference)
        ? ''
        : fmtRatio(pairedRatios(of(target, count), of(reference, count)));
    const table = (title: string, count: Count): string[] =>
      tableLines(
        [
          'target',
          title,
          '÷ sockjs-node',
          `÷ ${floor ?? 'floor'}`,
          '÷ express-baseline',
          'messages in window',
        ],
        targets.map((target) => {
          const messages = spread(
            records.filter((r) => r.target === target && leftOut(r) === null).map((r) => r.messages ?? null),
          );
          return [
            `\`${target}\``,
            fmtSpread(spread(of(target, count)), whole),
            ratioTo(target, 'sockjs-node', count),
            ratioTo(target, floor, count),
            ratioTo(target, expressBaseline(target), count),
            fmtSpread(messages, whole),
          ];
        }),
      );
    lines.push(`## ${spec?.title ?? id}`, '');
    lines.push(...table('instructions / message', eventSum(['Ir'])), '');
    if (records.some((r) => leftOut(r) === null && r.collectorInstructions !== undefined)) {
      lines.push(
        `### ${id}: outside V8's collector and compilers`,
        '',
        "The same windows less what V8's collector and compilers ran in them (by the names of " +
          "their functions in callgrind's dump): a full collection falls in one window and not " +
          'in the next, so this steadier figure shows what the requests themselves ran.',
        '',
        ...table('instructions / message', outsideCollectorAndCompilers),
        '',
      );
    }
    if (info.cacheSim) {
      lines.push(`### ${id}: simulated misses per message`, '');
      lines.push(
        ...tableLines(
          ['target', ...MISS_EVENTS.map(([name]) => name)],
          targets.map((target) => [
            `\`${target}\``,
            ...MISS_EVENTS.map(([, events]) => fmtSpread(spread(of(target, eventSum(events))), whole)),
          ]),
        ),
        '',
      );
    }
    const notCounted = records.filter((r) => leftOut(r) !== null);
    for (const r of notCounted) lines.push(`- rep ${r.rep + 1} \`${r.target}\` ${leftOut(r)}`);
    if (notCounted.length > 0) lines.push('');
  }
  return lines.join('\n');
}
