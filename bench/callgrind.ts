/**
 * A server under valgrind's callgrind, counting the instructions it runs in user space
 * (every thread of the process) only between two moments the runner chooses: started with
 * instrumentation off, switched on and off with `callgrind_control`, its counts read from
 * the dump that `callgrind_control --dump` makes it write. An instruction count does not
 * move with the machine's load or clock, as CPU time does.
 */
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * valgrind's options before `node` in a server's command. `--smc-check=all`: V8 writes
 * and rewrites machine code (its JIT, and patching of code already run); valgrind must
 * notice code that changed under it wherever it lies. `--instr-atstart=no`: starting the
 * server and opening the sessions run uninstrumented, several times faster.
 * `--vgdb=yes` (valgrind's default, spelt out): callgrind_control reaches the process
 * through vgdb.
 */
export function callgrindPrefix(outDir: string): string[] {
  return [
    'valgrind',
    '--tool=callgrind',
    '--instr-atstart=no',
    '--smc-check=all',
    '--vgdb=yes',
    `--callgrind-out-file=${join(outDir, 'callgrind.out.%p')}`,
    `--log-file=${join(outDir, 'valgrind.%p.log')}`,
  ];
}

/** Runs `callgrind_control <args> <pid>`; rejects on a failure or a reply without `OK`. */
export function callgrindControl(pid: number, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('callgrind_control', [...args, String(pid)], { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error !== null)
        reject(new Error(`callgrind_control ${args.join(' ')}: ${error.message} ${stderr}`));
      else if (!/\bOK\b/.test(stdout))
        reject(new Error(`callgrind_control ${args.join(' ')}: ${stdout.trim() || stderr.trim()}`));
      else resolve(stdout);
    });
  });
}

/** The totals of a callgrind dump: each event's name (`Ir`: instructions) and its count. */
export type CallgrindTotals = Record<string, number>;

/**
 * The `totals:` line of a callgrind dump (the last `events:` line names its columns), or
 * its `summary:` line where it has no totals. A dump holds one part per thread only with
 * --separate-threads=yes, which callgrindPrefix does not set: one line for the process.
 * `totals:` first: the summary of the dump written at exit, after `--zero`, wraps below
 * zero (18446744073356422600, 2^64 less the count zeroed) while its totals are right.
 */
export function parseCallgrindTotals(text: string): CallgrindTotals {
  let events: string[] | null = null;
  let totals: string | null = null;
  let summary: string | null = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('events:')) events = line.slice('events:'.length).trim().split(/\s+/);
    else if (line.startsWith('totals:')) totals = line.slice('totals:'.length);
    else if (line.startsWith('summary:')) summary = line.slice('summary:'.length);
  }
  const line = totals ?? summary;
  if (events === null || line === null) throw new Error('not a callgrind dump: no events or totals line');
  const counts = numbers(line);
  if (counts.length > events.length) throw new Error(`${counts.length} totals for ${events.length} events`);
  const result: CallgrindTotals = {};
  // Trailing zero counts may be left out of the line.
  events.forEach((name, i) => (result[name] = counts[i] ?? 0));
  return result;
}

function numbers(text: string): number[] {
  return text
    .trim()
    .split(/\s+/)
    .map((word) => {
      const n = Number(word);
      if (!Number.isSafeInteger(n) || n < 0) throw new Error(`not a count: ${word}`);
      return n;
    });
}

/**
 * The dumps of process `pid` in `outDir`, in the order written: callgrind numbers each
 * `--dump` `callgrind.out.<pid>.<n>` (the file without a number is the dump at exit).
 */
export function dumpsOf(outDir: string, pid: number): string[] {
  const prefix = `callgrind.out.${pid}.`;
  return readdirSync(outDir)
    .filter((name) => name.startsWith(prefix) && /^\d+$/.test(name.slice(prefix.length)))
    .sort((a, b) => Number(a.slice(prefix.length)) - Number(b.slice(prefix.length)))
    .map((name) => join(outDir, name));
}

/**
 * Instructions counted between `start()` and `stop()`: counters zeroed and instrumentation
 * on, then a dump (which callgrind writes before it answers) and instrumentation off. What
 * the server runs between the dump and switching it off is zeroed at the next start.
 */
export class InstructionWindow {
  constructor(
    private readonly pid: number,
    private readonly outDir: string,
  ) {}

  async start(): Promise<void> {
    await callgrindControl(this.pid, ['--zero']);
    await callgrindControl(this.pid, ['--instr=on']);
  }

  /**
   * The dump, then `atDump()` (what else ends with the window), then instrumentation off:
   * the window's totals and what `atDump()` gave.
   */
  async stop<T>(
    atDump: () => Promise<T>,
  ): Promise<{ totals: CallgrindTotals; split: InstructionSplit; atDump: T }> {
    const before = dumpsOf(this.outDir, this.pid).length;
    await callgrindControl(this.pid, ['--dump']);
    const other = await atDump();
    await callgrindControl(this.pid, ['--instr=off']);
    const dumps = dumpsOf(this.outDir, this.pid);
    if (dumps.length !== before + 1) throw new Error(`expected a new callgrind dump of ${this.pid}`);
    const text = readFileSync(dumps[dumps.length - 1], 'utf8');
    return { totals: parseCallgrindTotals(text), split: splitOf(selfCostByFunction(text)), atDump: other };
  }
}

/**
 * Each function's own instructions (`Ir`, its self cost) in a callgrind dump, by name. A
 * cost line after a `calls=` line is the call's inclusive cost, which is the callee's own
 * and counted there; every other cost line belongs to the function of the last `fn=`.
 */
export function selfCostByFunction(text: string, event = 'Ir'): Map<string, number> {
  const names = new Map<string, string>();
  const costs = new Map<string, number>();
  let positions = 1;
  let column = -1;
  let current = '';
  let callCost = false;
  for (const line of text.split('\n')) {
    const first = line.charCodeAt(0);
    // Digits, '+', '-' and '*': a cost line (positions, then the events' counts).
    if ((first >= 48 && first <= 57) || first === 43 || first === 45 || first === 42) {
      if (callCost) {
        callCost = false;
        continue;
      }
      const count = Number(line.trim().split(/\s+/)[positions + column] ?? 0);
      costs.set(current, (costs.get(current) ?? 0) + count);
      continue;
    }
    const named = /^(c?)fn=\((\d+)\)(?: (.*))?$/.exec(line);
    if (named !== null) {
      const [, call, id, name] = named;
      if (name !== undefined) names.set(id, name);
      if (call === '') current = names.get(id) ?? `(${id})`;
    } else if (line.startsWith('calls=')) callCost = true;
    else if (line.startsWith('positions:'))
      positions = line.slice('positions:'.length).trim().split(/\s+/).length;
    else if (line.startsWith('events:')) {
      column = line.slice('events:'.length).trim().split(/\s+/).indexOf(event);
      if (column === -1) throw new Error(`no ${event} in the dump's events`);
    }
  }
  return costs;
}

/**
 * V8's compilers (TurboFan, Maglev, Sparkplug): what compiling code cost in a window, by
 * the functions' names. A one-off cost of code that has just begun to run often enough,
 * not of the sessions: it fell in windows after the collections that deoptimize code.
 */
const COMPILER = /\bv8::internal::(compiler|maglev|baseline)::/;
/** V8's collector, young and full, by the functions' names (templates name it anywhere). */
const COLLECTOR =
  /\bv8::internal::(Heap::|Scavenger|ScavengerCollector|MarkCompactCollector|MinorMarkCompactCollector|ConcurrentMarking|IncrementalMarking|Sweeper|MarkingVisitor|MainMarkingVisitor|Evacuat)|Scavenge|\bheap::base::|\bcppgc::/;

/** A window's instructions split by who ran them: V8's compilers, its collector, the rest. */
export interface InstructionSplit {
  compiler: number;
  collector: number;
}

export function splitOf(costs: ReadonlyMap<string, number>): InstructionSplit {
  const split: InstructionSplit = { compiler: 0, collector: 0 };
  for (const [name, count] of costs) {
    if (COMPILER.test(name)) split.compiler += count;
    else if (COLLECTOR.test(name)) split.collector += count;
  }
  return split;
}
