/**
 * A saved run's records given their split (V8's compilers, its collector) again from the
 * callgrind dumps the run kept (`--dumps DIR`): one directory per server, named
 * `<transport>-<target>-<rep>-…`, its numbered dumps in the order of its windows.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { dumpsOf, parseCallgrindTotals, selfCostByFunction, splitOf } from './callgrind';
import type { InstructionRecord } from './heartbeat-instructions-figures';

/** How many records got their split; a dump whose count is not its record's stops it. */
export function splitFromDumps(records: InstructionRecord[], dumpDir: string): number {
  let done = 0;
  for (const name of readdirSync(dumpDir)) {
    const server = /^(websocket|xhr-streaming)-(.+)-(\d+)-[^-]+$/.exec(name);
    if (server === null) continue;
    const [, transport, target, rep] = server;
    const dir = join(dumpDir, name);
    const pid = readdirSync(dir)
      .map((file) => /^callgrind\.out\.(\d+)$/.exec(file)?.[1])
      .find((p) => p !== undefined);
    if (pid === undefined) continue;
    const windows = records
      .filter(
        (r) =>
          r.transport === transport &&
          r.target === target &&
          r.rep === Number(rep) - 1 &&
          r.instructions !== undefined,
      )
      .sort((a, b) => a.step - b.step);
    const dumps = dumpsOf(dir, Number(pid));
    windows.forEach((record, i) => {
      if (i >= dumps.length) return;
      const text = readFileSync(dumps[i], 'utf8');
      const count = parseCallgrindTotals(text)['Ir'];
      if (count !== record.instructions)
        throw new Error(`${dumps[i]}: ${count} instructions, its record ${record.instructions}`);
      const split = splitOf(selfCostByFunction(text));
      record.compilerInstructions = split.compiler;
      record.collectorInstructions = split.collector;
      done++;
    });
  }
  return done;
}
