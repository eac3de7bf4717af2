/**
 * One instrumented window of a server under callgrind with the load generator counting
 * alongside: what both bench:heartbeat-instructions and bench:message-instructions measure.
 */
import type { IpcPeer, LoadResult } from './ipc';
import type { CallgrindTotals, InstructionSplit, InstructionWindow } from './callgrind';

export interface CountedWindow {
  totals: CallgrindTotals;
  split: InstructionSplit;
  /** What the load generator counted (messages or heartbeats) over the window. */
  load: LoadResult;
  /** From instrumentation on until the dump had been written, as this process saw it. */
  instrumentedMs: number;
}

const delay = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/**
 * Counters zeroed and instrumentation on, the load generator's count started, and after
 * `ms` the dump, the load generator's count, instrumentation off. The load generator counts
 * from when instrumentation is on until the dump has been written: the same span, but for
 * the milliseconds of the messages between the processes. callgrind_control takes 0.1 to
 * 0.3 s a command, and a window of fixed length between them left 1.2 to 1.8 s of the
 * instrumented span uncounted, which fell on a different part of ours' heartbeat batches
 * (its clock's ticks) each time.
 */
export async function countedWindow(
  window: InstructionWindow,
  client: IpcPeer,
  ms: number,
): Promise<CountedWindow> {
  await window.start();
  await client.request({ type: 'window-start' }, 10_000);
  const began = performance.now();
  await delay(ms);
  const { totals, split, atDump } = await window.stop(() =>
    client.request<LoadResult>({ type: 'window-end' }, 10_000),
  );
  return { totals, split, load: atDump, instrumentedMs: performance.now() - began };
}
