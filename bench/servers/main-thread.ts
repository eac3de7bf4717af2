/**
 * CPU time of the server's main thread alone, from the scheduler's statistics of that
 * thread (`/proc/self/task/<pid>/schedstat`, nanoseconds on a CPU, user and kernel): the
 * JavaScript and its system calls. `process.cpuUsage()` also counts V8's helper threads
 * (concurrent marking, sweeping, compiling) and libuv's pool, whose share of an idle-scale
 * window moves with when V8 chose to run them.
 */
import { readFileSync } from 'node:fs';

const SCHEDSTAT = `/proc/self/task/${process.pid}/schedstat`;

/** Microseconds the main thread has run; absent where the kernel keeps no such statistics. */
export function mainThread(): { mainThread?: number } {
  try {
    const nanoseconds = Number(readFileSync(SCHEDSTAT, 'latin1').split(' ', 1)[0]);
    return Number.isFinite(nanoseconds) ? { mainThread: nanoseconds / 1000 } : {};
  } catch {
    return {};
  }
}
