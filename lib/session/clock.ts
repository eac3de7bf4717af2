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

/**
 * Heartbeats and disconnect delays of every session of a service, on one timer that ticks
 * every quarter of the shorter delay while any session waits, so a heartbeat or an expiry
 * comes at most a quarter of its delay late.
 *
 * Sessions are filed by deadline in slots of one tick each (a timing wheel), and a tick
 * looks only at the slots that came due: the cost of a tick follows the sessions due, not
 * the sessions open. A deadline that moves later (every frame written moves the heartbeat)
 * is only a number; the session is filed again when its old slot comes round. A slot is a
 * list threaded through its sessions, so filing one (twice per poll) moves a few pointers.
 */
export class SessionClock {
  /** Slot number (deadline / tick, rounded up) -> the first session filed there. */
  private readonly slots = new Map<number, Timed>();
  private timer: NodeJS.Timeout | null = null;
  private readonly tickMs: number;
  /** The first slot not yet looked at. */
  private nextSlot = 0;

  constructor(heartbeatDelay: number, disconnectDelay: number) {
    this.tickMs = Math.max(5, Math.floor(Math.min(heartbeatDelay, disconnectDelay) / 4));
  }

  /** Files a session under its deadline, or earlier: when its deadline moved earlier. */
  add(session: Timed): void {
    if (session.deadline === 0) return;
    if (this.timer === null) this.nextSlot = Math.floor(Date.now() / this.tickMs);
    // Rounded up: a slot is looked at once its start has passed, so everything in it is due.
    // Never behind the slots already looked at, or it would wait forever.
    const slot = Math.max(Math.ceil(session.deadline / this.tickMs), this.nextSlot);
    const filed = session.clockSlot;
    // Filed at or before its deadline already: that slot will see it and file it again.
    if (filed !== 0 && filed <= slot) return;
    if (filed !== 0) this.delete(session);
    const head = this.slots.get(slot);
    session.clockPrev = null;
    session.clockNext = head ?? null;
    if (head !== undefined) head.clockPrev = session;
    this.slots.set(slot, session);
    session.clockSlot = slot;
    if (this.timer === null) {
      this.timer = setInterval(() => this.tick(), this.tickMs);
      // Sessions alone never keep a process alive: once its server is closed, it may exit.
      this.timer.unref();
    }
  }

  delete(session: Timed): void {
    const filed = session.clockSlot;
    if (filed === 0) return;
    const { clockPrev: prev, clockNext: next } = session;
    if (prev !== null) prev.clockNext = next;
    else if (next !== null) this.slots.set(filed, next);
    // The timer stops at its next tick once nothing waits: no timer churn per poll.
    else this.slots.delete(filed);
    if (next !== null) next.clockPrev = prev;
    session.clockSlot = 0;
    session.clockPrev = null;
    session.clockNext = null;
  }

  /** Stops the timer now (shutdown). */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private tick(): void {
    const now = Date.now();
    const due = Math.floor(now / this.tickMs);
    while (this.nextSlot <= due && this.slots.size > 0) {
      const slot = this.nextSlot++;
      const head = this.slots.get(slot);
      if (head === undefined) continue;
      this.slots.delete(slot);
      // Unfiled all before any fires: what one session's timer does (an application closing
      // other connections) may file or unfile others of this slot.
      const sessions: Timed[] = [];
      for (let session: Timed | null = head; session !== null;) {
        const next: Timed | null = session.clockNext;
        session.clockSlot = 0;
        session.clockPrev = null;
        session.clockNext = null;
        sessions.push(session);
        session = next;
      }
      for (const session of sessions) {
        if (session.deadline === 0 || session.clockSlot !== 0) continue;
        if (session.deadline <= now) session.timerFired();
        // Not due after all (its deadline moved), or due again (a heartbeat sent).
        if (session.deadline !== 0 && session.clockSlot === 0) this.add(session);
      }
    }
    this.nextSlot = due + 1;
    if (this.slots.size === 0) this.stop();
  }
}
