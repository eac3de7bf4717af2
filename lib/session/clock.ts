/** What the clock needs of a session: its deadline, its place in the clock, what to call. */
export interface Timed {
  /** When it is due (ms since the epoch); 0 when nothing is pending. */
  deadline: number;
  /** The slot the clock filed it under, 0 when not filed, and its neighbours there. Kept by the clock alone. */
  clockSlot: number;
  clockPrev: Timed | null;
  clockNext: Timed | null;
  timerFired(): void;
}

/** A wheel's size at most, whatever the delays: 64 KiB of slots. */
const MAX_SLOTS = 8192;

/**
 * Heartbeats and disconnect delays of every session of a service, on one timer that ticks
 * every quarter of the shorter delay while any session waits, at the start of each slot, so
 * a heartbeat or an expiry comes at most a quarter of its delay late (the rounding of its
 * deadline up to a slot), or an eighth of a tick early. The early margin matters: a
 * heartbeat is set again from the moment the clock sent the last one, a few milliseconds
 * into a slot, and rounded up it would wait a whole tick more each period (heartbeats every
 * 26.25 s instead of 25; with a timer of its own phase, up to 27.5 s).
 *
 * Sessions are filed by deadline in slots of one tick each, on a wheel of as many slots as
 * the longer delay spans, and a tick looks only at the slot that came due: the cost of a
 * tick follows the sessions due, not the sessions open. A deadline that moves later (every
 * frame written moves the heartbeat) is only a number; the session is filed again when its
 * old slot comes round. A slot is a list threaded through its sessions, so filing one
 * (twice per poll) moves a few pointers and allocates nothing.
 */
export class SessionClock {
  /** Slot `n` is `wheel[n % wheel.length]`: the first session filed there, or null. */
  private readonly wheel: (Timed | null)[];
  /** Sessions filed on the wheel. */
  private filed = 0;
  private timer: NodeJS.Timeout | null = null;
  /** Whether the timer's handler is looking at slots now. */
  private ticking = false;
  private readonly tickMs: number;
  /** How early a session may fire: deadlines this close to a slot's start belong to it. */
  private readonly earlyMs: number;
  /** The first slot not yet looked at. */
  private nextSlot = 0;
  /**
   * The sessions of the slot being looked at, in its first places; kept at the largest size
   * a slot has needed, so a tick allocates nothing (emptying an array by its length would
   * give its storage back, and the next tick would grow it again).
   */
  private readonly due: (Timed | null)[] = [];

  constructor(heartbeatDelay: number, disconnectDelay: number) {
    this.tickMs = Math.max(5, Math.floor(Math.min(heartbeatDelay, disconnectDelay) / 4));
    this.earlyMs = Math.floor(this.tickMs / 8);
    // Every deadline is at most the longer delay away, plus a slot of rounding; one
    // further away is filed at the last slot and filed again from there.
    const span = Math.ceil(Math.max(heartbeatDelay, disconnectDelay) / this.tickMs) + 2;
    this.wheel = new Array<Timed | null>(Math.min(span, MAX_SLOTS)).fill(null);
  }

  /** Files a session under its deadline, or earlier: when its deadline moved earlier. */
  add(session: Timed): void {
    if (session.deadline === 0) return;
    if (this.timer === null && !this.ticking) this.nextSlot = Math.floor(Date.now() / this.tickMs);
    // Rounded up: a slot is looked at once its start has passed, so everything in it is due
    // (or due within earlyMs).
    // Never behind the slots already looked at, or it would wait forever; never past the
    // wheel's last slot.
    const slot = Math.min(
      Math.max(Math.ceil((session.deadline - this.earlyMs) / this.tickMs), this.nextSlot),
      this.nextSlot + this.wheel.length - 1,
    );
    const filed = session.clockSlot;
    // Filed at or before its deadline already: that slot will see it and file it again.
    if (filed !== 0 && filed <= slot) return;
    if (filed !== 0) this.delete(session);
    const index = slot % this.wheel.length;
    const head = this.wheel[index];
    session.clockPrev = null;
    session.clockNext = head;
    if (head !== null) head.clockPrev = session;
    this.wheel[index] = session;
    session.clockSlot = slot;
    this.filed++;
    if (this.timer === null && !this.ticking) this.schedule();
  }

  /** Wakes at the start of the next slot, the moment its sessions come due. */
  private schedule(): void {
    const now = Date.now();
    this.timer = setTimeout(this.onTimer, (Math.floor(now / this.tickMs) + 1) * this.tickMs - now);
    // Sessions alone never keep a process alive: once its server is closed, it may exit.
    this.timer.unref();
  }

  private readonly onTimer = (): void => {
    this.timer = null;
    // Sessions filed while the slots are handled (a handler's doing) wait for the next
    // timer, set once the handling is over.
    this.ticking = true;
    try {
      this.tick();
    } finally {
      this.ticking = false;
    }
    if (this.timer === null && this.filed > 0) this.schedule();
  };

  delete(session: Timed): void {
    const filed = session.clockSlot;
    if (filed === 0) return;
    const { clockPrev: prev, clockNext: next } = session;
    if (prev !== null) prev.clockNext = next;
    else this.wheel[filed % this.wheel.length] = next;
    if (next !== null) next.clockPrev = prev;
    session.clockSlot = 0;
    session.clockPrev = null;
    session.clockNext = null;
    // The timer stops at its next tick once nothing waits: no timer churn per poll.
    this.filed--;
  }

  /** Stops the timer now (shutdown). */
  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private tick(): void {
    const now = Date.now();
    const dueSlot = Math.floor(now / this.tickMs);
    const due = this.due;
    while (this.nextSlot <= dueSlot && this.filed > 0) {
      const index = this.nextSlot++ % this.wheel.length;
      let count = 0;
      // Unfiled all before any fires: what one session's timer does (an application closing
      // other connections) may file or unfile others of this slot.
      for (let session = this.wheel[index]; session !== null;) {
        const next: Timed | null = session.clockNext;
        session.clockSlot = 0;
        session.clockPrev = null;
        session.clockNext = null;
        this.filed--;
        due[count++] = session;
        session = next;
      }
      this.wheel[index] = null;
      for (let i = 0; i < count; i++) {
        const session = due[i] as Timed;
        // Let go at once: a closed session must not wait here for the next busy slot.
        due[i] = null;
        if (session.deadline === 0 || session.clockSlot !== 0) continue;
        if (session.deadline <= now + this.earlyMs) session.timerFired();
        // Not due after all (its deadline moved), or due again (a heartbeat sent).
        if (session.deadline !== 0 && session.clockSlot === 0) this.add(session);
      }
    }
    this.nextSlot = dueSlot + 1;
    if (this.filed === 0) this.stop();
  }
}
