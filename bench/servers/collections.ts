/**
 * The collections a target server has run since it started, from Node's `gc` performance
 * entries: how many full (mark-compact) and young-generation ones, and the time the main
 * thread spent in them. Heartbeat CPU at one idle-scale step moves by up to a quarter
 * between windows; this tells a window that caught a full collection of a large heap, or
 * costly young ones, from one that did not.
 */
import { PerformanceObserver, constants } from 'node:perf_hooks';

/** Full and young collections so far, and the main thread's pauses in each kind, ms. */
const ledger = { majorCollections: 0, majorCollectionMs: 0, minorCollections: 0, minorCollectionMs: 0 };

const observer = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = (entry as { detail?: { kind?: number } | null }).detail?.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
      ledger.majorCollections++;
      ledger.majorCollectionMs += entry.duration;
    } else if (kind === constants.NODE_PERFORMANCE_GC_MINOR) {
      ledger.minorCollections++;
      ledger.minorCollectionMs += entry.duration;
    }
  }
});
observer.observe({ entryTypes: ['gc'] });

/**
 * The ledger as it stands (the pauses are the main thread's; concurrent marking on other
 * threads is not in them).
 */
export function collections(): typeof ledger {
  return { ...ledger };
}
