/**
 * The memory a target server reports to the runner: RSS after full collections that leave
 * the heap compacted and its freed pages returned, split into V8's heap, the main malloc
 * arena and the rest.
 */
import { readFileSync } from 'node:fs';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import type { MemoryReply } from '../ipc';

/**
 * V8 returns the pages a collection emptied from a background task, within about 100 ms
 * (measured: RSS 171 MiB right after a compacting collection, 130 at 10 ms, 100 from
 * 100 ms on); read sooner, RSS still holds them.
 */
const PAGES_RETURNED_MS = 500;

const delay = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

function isYoung(spaceName: string): boolean {
  return spaceName === 'new_space' || spaceName === 'new_large_object_space';
}

/** Committed (resident) and used bytes of V8's young generation, or of the rest of its heap. */
function heapSpaces(young: boolean): { committed: number; used: number } {
  let committed = 0;
  let used = 0;
  for (const space of getHeapSpaceStatistics()) {
    if (isYoung(space.space_name) !== young) continue;
    committed += space.physical_space_size;
    used += space.space_used_size;
  }
  return { committed, used };
}

/**
 * Resident bytes of the `[heap]` mapping, the main thread's malloc arena, from
 * /proc/self/smaps; null where there is none. It holds native memory V8 does not count:
 * memory the allocator keeps after a free shows here and nowhere else.
 */
function mallocArena(): number | null {
  try {
    const smaps = readFileSync('/proc/self/smaps', 'utf8');
    const start = smaps.search(/ \[heap\]\n/);
    if (start < 0) return null;
    const rss = /^Rss:\s+(\d+) kB$/m.exec(smaps.slice(start));
    return rss === null ? null : Number(rss[1]) * 1024;
  } catch {
    return null;
  }
}

/**
 * A full collection compacts only the pages its heuristics pick, so the free space left
 * between live objects depends on when the last one ran and on what the burst before it
 * left: from 0.4 to 1.2 KiB per idle xhr-streaming session at 18,000 in runs of the same
 * server. V8's memory reducer compacts once a process goes quiet; this does the same at
 * once, so that every reading counts what the sessions hold, not the collector's timing.
 * What the collections before it left free is reported beside (oldFree).
 */
function compactingCollection(gc: () => void): void {
  setFlagsFromString('--compact-on-every-full-gc');
  try {
    gc();
  } finally {
    setFlagsFromString('--no-compact-on-every-full-gc');
  }
}

/**
 * Heap figures right after the collections; RSS once the freed pages are back with the
 * system. Read later, the heap would count the young objects the delay's own work made
 * (0.6 KiB per session at 18,000 xhr-streaming sessions with heartbeats every 5 s).
 */
export async function measureMemory(): Promise<MemoryReply> {
  const gc = (globalThis as { gc?: () => void }).gc;
  let oldFree: number | null = null;
  if (gc !== undefined) {
    // Two passes: the first can leave weakly held and finalizable objects behind.
    gc();
    gc();
    const old = heapSpaces(false);
    oldFree = old.committed - old.used;
    compactingCollection(gc);
  }
  const { heapUsed, external } = process.memoryUsage();
  const oldCommitted = heapSpaces(false).committed;
  if (gc !== undefined) await delay(PAGES_RETURNED_MS);
  return {
    rss: process.memoryUsage.rss(),
    young: heapSpaces(true).committed,
    oldCommitted,
    oldFree,
    mallocArena: mallocArena(),
    heapUsed,
    external,
    gc: gc !== undefined,
  };
}
