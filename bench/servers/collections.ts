/**
 * The collections a target server has run since it started, from Node's `gc` performance
 * entries: how many full (mark-compact) and young-generation ones, and the time the main
 * thread spent in them. Heartbeat CPU at one idle-scale step moves by up to a quarter
 * between windows; this tells a window that caught a full collection of a large heap, or
 * costly young ones, from one that did not.
 */
import { PerformanceObserver, constants } from 'node:perf_hooks';

const ledger = { majorCount: 0, majorMs: 0, minorCount: 0, minorMs: 0 };

const observer = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = (entry as { detail?: { kind?: number } | null }).detail?.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
      ledger.majorCount++;
      ledger.majorMs += entry.duration;
    } else if (kind === constants.NODE_PERFORMANCE_GC_MINOR) {
      ledger.minorCount++;
      ledger.minorMs += entry.duration;
    }
  }
});
observer.observe({ entryTypes: ['gc'] });

/**
 * Full and young-generation collections so far, and the milliseconds the main thread spent
 * in each kind (its pauses; concurrent marking on other threads is not in them).
 */
export function collections(): {
  majorCollections: number;
  majorCollectionMs: number;
  minorCollections: number;
  minorCollectionMs: number;
} {
  return {
    majorCollections: ledger.majorCount,
    majorCollectionMs: ledger.majorMs,
    minorCollections: ledger.minorCount,
    minorCollectionMs: ledger.minorMs,
  };
}
