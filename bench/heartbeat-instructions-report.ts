/**
 * The heartbeat-instructions run as Markdown: per transport, target and step the
 * instructions per heartbeat period and per heartbeat (medians of the repetitions, with
 * their range), then the slopes between steps and whether they stay constant.
 */
import { fmt, fmtSpread, spread } from './stats';
import { tableLines } from './markdown-table';
import {
  CONSTANT_SLOPE,
  collectorPerHeartbeatOf,
  perHeartbeatOf,
  perPeriodOf,
  relativeSpread,
  repSlopes,
  repsOf,
  roundsOf,
  slopeVerdict,
  stepSpread,
  targetsOf,
  transportsOf,
  type InstructionInfo,
  type InstructionRecord,
} from './heartbeat-instructions-figures';

/** Millions, about three significant digits. */
const millions = (v: number): string => fmt(v / 1e6);
const percent = (v: number): string => (Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : '–');

export function markdownOf(info: InstructionInfo, records: readonly InstructionRecord[]): string {
  const periods = info.windowMs / info.heartbeatMs;
  const out: string[] = [
    '# Idle heartbeats in instructions',
    '',
    `${info.date}, \`${info.command}\`, Node ${info.node}, ${info.valgrind}, ${info.pinning}. ` +
      `Steps ${info.steps.map(fmt).join(', ')} in one server per target, ${info.reps} repetition(s). ` +
      `Every server ran under \`${info.valgrindOptions.join(' ')}\` with ` +
      `${info.serverFlags.map((flag) => '`' + flag + '`').join(' ')} and a heartbeat every ` +
      `${info.heartbeatMs / 1000} s. ` +
      (info.serverFlags.includes('--no-opt')
        ? 'V8 ran baseline code only (Sparkplug, no optimizing compiler): the same tier at ' +
          'every step, and not the counts of optimized code. '
        : '') +
      `Before the steps each server held the largest step's sessions ` +
      `for ${info.warmUpMs / 1000} s and closed them, so that V8 had compiled what the heartbeats run. ` +
      'At each step the sessions opened uninstrumented; then the full collections of a memory ' +
      `reading and ${info.settleMs / 1000} s of idle load; then \`callgrind_control --zero\` and ` +
      `\`--instr=on\`, a window of ${info.windowMs / 1000} s (${fmt(periods)} periods) in which the load generator counts the ` +
      'heartbeats it receives, then `--dump` (its `totals:` line: instructions run in user space ' +
      'by every thread of the server while instrumented) and `--instr=off`. Kernel time is not ' +
      'counted. V8’s compilers and its collector are told apart by the names of the functions ' +
      'that ran (each function’s own instructions in the dump). Instructions per heartbeat ' +
      'period: the window’s count less V8’s compilers (a one-off cost of code that has just ' +
      'run often enough, not of the sessions) ÷ heartbeats received per session; the slope: how many more instructions per period one more session brings, ' +
      'between consecutive steps. Spread: (max − min) ÷ median over the repetitions.',
  ];
  const reps = repsOf(records);
  out.push('', ...summaryOf(info, records, reps));
  for (const transport of transportsOf(records)) {
    const targets = targetsOf(records, transport);
    out.push('', `## ${transport}`, '');
    const rows: string[][] = [];
    for (const target of targets) {
      for (const step of info.steps) {
        const at = (figure: (r: InstructionRecord) => number | undefined): ReturnType<typeof spread> =>
          stepSpread(records, transport, target, step, figure);
        const perPeriod = at(perPeriodOf);
        const failed = records.filter(
          (r) => r.transport === transport && r.target === target && r.step === step && r.error !== undefined,
        );
        const closed = records
          .filter((r) => r.transport === transport && r.target === target && r.step === step)
          .reduce((sum, r) => sum + (r.closedInWindow ?? 0), 0);
        rows.push([
          target,
          fmt(step),
          fmtSpread(at(roundsOf), (v) => v.toFixed(2)),
          fmtSpread(perPeriod, millions),
          percent(relativeSpread(perPeriod)),
          fmtSpread(at(perHeartbeatOf)),
          fmtSpread(at(collectorPerHeartbeatOf)),
          fmtSpread(
            at((r) => r.instructions),
            millions,
          ),
          fmtSpread(
            at((r) => r.compilerInstructions),
            millions,
          ),
          String(closed),
          failed.map((r) => r.error).join('; '),
        ]);
      }
    }
    out.push(
      ...tableLines(
        [
          'target',
          'sessions',
          'heartbeats / session in window',
          'M instructions / heartbeat period',
          'spread',
          'instructions / heartbeat delivered',
          'of which collector',
          'M instructions in window',
          "of which V8's compilers (M)",
          'closed in window',
          'failed',
        ],
        rows,
      ),
    );
    out.push('', `### ${transport}: instructions one more session adds per heartbeat`, '');
    out.push(
      'Slope between consecutive steps (instructions per period per session, less V8’s ' +
        'compilers), median of the repetitions (range); last ÷ first within ' +
        `${CONSTANT_SLOPE * 100}% reads as constant. The last column: last ÷ first of all ` +
        'instructions, the compilers’ included.',
      '',
    );
    const slopeRows: string[][] = [];
    for (const target of targets) {
      const perRep = reps
        .map((rep) => repSlopes(records, info.steps, transport, target, rep))
        .filter((s): s is NonNullable<typeof s> => s !== null);
      const cells = info.steps.slice(1).map((_, i) => fmtSpread(spread(perRep.map((s) => s.slopes[i]))));
      const ratio = spread(perRep.map((s) => s.ratio));
      const whole = reps
        .map((rep) => repSlopes(records, info.steps, transport, target, rep, true)?.ratio ?? null)
        .filter((v): v is number => v !== null);
      slopeRows.push([
        target,
        ...cells,
        fmtSpread(ratio, (v) => v.toFixed(3)),
        // Each repetition's verdict: counts that repeat make them agree.
        perRep.length === 0 ? '–' : perRep.map((s) => slopeVerdict(s.ratio)).join(', '),
        fmtSpread(spread(whole), (v) => v.toFixed(3)),
      ]);
    }
    out.push(
      ...tableLines(
        [
          'target',
          ...info.steps.slice(1).map((step, i) => `slope ${fmt(info.steps[i])}→${fmt(step)}`),
          'last ÷ first',
          `within ${CONSTANT_SLOPE * 100}%, by repetition`,
          'last ÷ first, all instructions',
        ],
        slopeRows,
      ),
    );
  }
  return out.join('\n') + '\n';
}

/**
 * Every target on one line: instructions per heartbeat delivered at each step, the slopes
 * and last ÷ first (medians of the repetitions), and how far the repetitions lay apart at
 * most, over the steps' figures per period.
 */
function summaryOf(info: InstructionInfo, records: readonly InstructionRecord[], reps: number[]): string[] {
  const rows: string[][] = [];
  for (const transport of transportsOf(records)) {
    for (const target of targetsOf(records, transport)) {
      const perRep = reps
        .map((rep) => repSlopes(records, info.steps, transport, target, rep))
        .filter((s): s is NonNullable<typeof s> => s !== null);
      const spreads = info.steps.map((step) =>
        relativeSpread(stepSpread(records, transport, target, step, (r) => perPeriodOf(r))),
      );
      rows.push([
        transport,
        target,
        info.steps
          .map((step) => fmt(stepSpread(records, transport, target, step, perHeartbeatOf).median))
          .join(' → '),
        info.steps
          .slice(1)
          .map((_, i) => fmt(spread(perRep.map((s) => s.slopes[i])).median))
          .join(' → '),
        fmtSpread(spread(perRep.map((s) => s.ratio)), (v) => v.toFixed(2) + 'x'),
        percent(Math.max(...spreads.filter((v) => Number.isFinite(v)))),
      ]);
    }
  }
  return [
    '## Summary',
    '',
    `Medians of ${reps.length} repetition(s); the slope in instructions one more session adds per heartbeat; ` +
      'the spread: the largest (max − min) ÷ median of the instructions per period over the steps.',
    '',
    ...tableLines(
      [
        'transport',
        'target',
        `instructions / heartbeat, ${info.steps.map(fmt).join(' → ')}`,
        `slope, ${info.steps
          .slice(1)
          .map((step, i) => `${fmt(info.steps[i])}→${fmt(step)}`)
          .join(' → ')}`,
        'last ÷ first',
        'spread',
      ],
      rows,
    ),
  ];
}
