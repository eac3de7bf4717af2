import type { Session } from './session';

/**
 * Heartbeats and disconnect delays of every session of a service, on one timer. It ticks
 * every quarter of the shorter delay while any session waits on it, so a heartbeat or an
 * expiry comes at most a quarter of its delay late; writing a frame only moves a number.
 */
export class SessionClock {
  private readonly waiting = new Set<Session>();
  private timer: NodeJS.Timeout | null = null;
  private readonly tickMs: number;

  constructor(heartbeatDelay: number, disconnectDelay: number) {
    this.tickMs = Math.max(5, Math.floor(Math.min(heartbeatDelay, disconnectDelay) / 4));
  }

  add(session: Session): void {
    this.waiting.add(session);
    if (this.timer === null) {
      this.timer = setInterval(() => this.tick(), this.tickMs);
      // Sessions alone never keep a process alive: once its server is closed, it may exit.
      this.timer.unref();
    }
  }

  delete(session: Session): void {
    // The timer stops at its next tick once nothing waits: no timer churn per poll.
    this.waiting.delete(session);
  }

  /** Stops the timer now (shutdown). */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private tick(): void {
    if (this.waiting.size === 0) {
      this.stop();
      return;
    }
    const now = Date.now();
    for (const session of this.waiting) {
      if (session.deadline !== 0 && session.deadline <= now) session.timerFired();
    }
  }
}
