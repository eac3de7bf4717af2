/**
 * What the runners read from the machine they run on (its busy time, the open-file limit)
 * and how they write their result files (formatted as the project formats Markdown).
 */
import { readFileSync } from 'node:fs';

/** USER_HZ: 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS = 100;

/**
 * Busy time of the whole machine (every process, every core) in microseconds, from
 * /proc/stat; null where there is no /proc. Over a window, machine minus server minus load
 * generator is what everything else on the machine used: a busy machine makes every
 * figure unreliable, so it is reported beside them.
 */
export function machineBusyMicros(): number | null {
  try {
    const fields = readFileSync('/proc/stat', 'utf8')
      .split('\n', 1)[0]
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    // user nice system idle iowait irq softirq steal: all but idle and iowait are busy.
    const busy = fields.slice(0, 8).reduce((sum, value, i) => (i === 3 || i === 4 ? sum : sum + value), 0);
    return (busy * 1_000_000) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

/** Descriptors a process keeps for itself besides the sessions: listeners, IPC, files. */
export const SPARE_FILE_DESCRIPTORS = 1000;

/**
 * The open-file limit of this process, which the server and the load generator inherit;
 * null where /proc does not say. Each idle session holds one descriptor on either side.
 */
export function openFileLimit(): number | null {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = Number(line?.split(/\s+/)[3]);
    return Number.isFinite(soft) ? soft : null;
  } catch {
    return null;
  }
}

/** Formats with the project's Prettier settings, so that `prettier --check` passes on results. */
export async function pretty(text: string, filepath: string): Promise<string> {
  try {
    const prettier = await import('prettier');
    const config = (await prettier.resolveConfig(filepath)) ?? {};
    return await prettier.format(text, { ...config, filepath });
  } catch {
    console.error(`(prettier unavailable: ${filepath} left unformatted)`);
    return text;
  }
}

/**
 * The read and write system calls this process has made (`syscr`, `syscw` of /proc/self/io:
 * read, readv, write, writev and kin, the calls Node's sockets use); null where there is no
 * /proc. Over a window, divided by the messages, they show how many messages each call
 * carried: in a closed loop that depends on the server's own pace, and the CPU per message
 * with it.
 */
export function systemCalls(): { reads: number; writes: number } | null {
  try {
    const text = readFileSync('/proc/self/io', 'utf8');
    const reads = /^syscr: (\d+)$/m.exec(text);
    const writes = /^syscw: (\d+)$/m.exec(text);
    if (reads === null || writes === null) return null;
    return { reads: Number(reads[1]), writes: Number(writes[1]) };
  } catch {
    return null;
  }
}

/** The system calls of a window, per message (or session, or heartbeat); empty without counts. */
export function systemCallsPerUnit(
  before: { reads?: number; writes?: number },
  after: { reads?: number; writes?: number },
  units: number,
): { readsPerUnit?: number; writesPerUnit?: number } {
  if (units <= 0 || before.reads === undefined || after.reads === undefined) return {};
  if (before.writes === undefined || after.writes === undefined) return {};
  return {
    readsPerUnit: (after.reads - before.reads) / units,
    writesPerUnit: (after.writes - before.writes) / units,
  };
}
