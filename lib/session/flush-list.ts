/** What a flush list flushes: a session with messages queued in this tick. */
export interface Flushable {
  /** `now`: the time the run began (ms since the epoch). */
  flush(now: number): void;
}

/** Told when a flush list's run begins and ends (the service's RepeatedMessage). */
export interface FlushRunWatcher {
  runStarted(): void;
  runEnded(): void;
}

function runOnTick(list: FlushList): void {
  list.run();
}

/**
 * The sessions of a service that have messages queued in this tick, flushed together in one
 * `process.nextTick` callback, in the order they were queued: what a tick of its own per
 * session did, without a tick object per session (a broadcast to thousands of sessions
 * queued thousands of them).
 */
export class FlushList {
  private readonly waiting: Flushable[] = [];
  private scheduled = false;

  constructor(private readonly watcher: FlushRunWatcher | null = null) {}

  add(session: Flushable): void {
    this.waiting.push(session);
    if (this.scheduled) return;
    this.scheduled = true;
    process.nextTick(runOnTick, this);
  }

  run(): void {
    const waiting = this.waiting;
    let done = 0;
    // One reading of the clock for the run, not one per session: what a session does with
    // it (move its heartbeat) is checked by a clock that ticks every quarter heartbeat.
    const now = Date.now();
    this.watcher?.runStarted();
    try {
      // A flush may queue more (an application listener writing): those are flushed here too.
      while (done < waiting.length) waiting[done++].flush(now);
    } finally {
      this.watcher?.runEnded();
      if (done < waiting.length) {
        // A flush threw (an application listener, on `drain`): the error goes on up as it
        // would from its own tick, and the sessions after it get a tick of their own.
        waiting.splice(0, done);
        process.nextTick(runOnTick, this);
      } else {
        // Setting an array's length goes through V8's runtime (about 70 ns, several times a
        // pop): the run of one session, every echo's, pops instead.
        if (waiting.length === 1) waiting.pop();
        else waiting.length = 0;
        this.scheduled = false;
      }
    }
  }
}
