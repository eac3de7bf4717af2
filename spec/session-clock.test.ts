import { describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { SessionClock, type Timed } from '../lib/session/clock';

/** A session as the clock sees it: fires every `period` ms, `times` times. */
class Ticker implements Timed {
  deadline = 0;
  clockSlot = 0;
  clockPrev: Timed | null = null;
  clockNext: Timed | null = null;
  fired = 0;
  onFire: (() => void) | null = null;

  constructor(
    private readonly period: number,
    private readonly times: number,
  ) {}

  start(clock: SessionClock, deadline = Date.now() + this.period): void {
    this.deadline = deadline;
    clock.add(this);
  }

  timerFired(): void {
    this.fired++;
    this.onFire?.();
    this.deadline = this.fired < this.times ? Date.now() + this.period : 0;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function until(done: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(5);
  }
}

/** Files the tickers under one deadline, in order: the last filed heads the slot and fires first. */
function fileInOneSlot(clock: SessionClock, ...tickers: Ticker[]): void {
  const deadline = Date.now() + 40;
  for (const ticker of tickers) ticker.start(clock, deadline);
}

/** The clock's list of due sessions, which must hold none between ticks. */
function dueList(clock: SessionClock): unknown[] {
  const due: unknown = Reflect.get(clock, 'due');
  assert.ok(Array.isArray(due));
  return due;
}

describe('SessionClock', () => {
  it('fires every session of a crowded slot once per period, tick after tick', async () => {
    const clock = new SessionClock(40, 40);
    const tickers = Array.from({ length: 500 }, () => new Ticker(40, 3));
    for (const ticker of tickers) ticker.start(clock);
    await until(() => tickers.every((t) => t.fired === 3));
    await sleep(150);
    assert.deepEqual(new Set(tickers.map((t) => t.fired)), new Set([3]));
    clock.stop();
  });

  it('holds no session between ticks once a slot has been handled', async () => {
    const clock = new SessionClock(40, 40);
    const tickers = Array.from({ length: 200 }, () => new Ticker(40, 1));
    for (const ticker of tickers) ticker.start(clock);
    await until(() => tickers.every((t) => t.fired === 1));
    const due = dueList(clock);
    assert.ok(due.length >= 1, 'the storage is kept for the next tick');
    assert.ok(
      due.every((entry) => entry === null),
      'every place let go',
    );
    clock.stop();
  });

  it('does not fire a due session that an earlier one of its slot removed', async () => {
    const clock = new SessionClock(40, 40);
    const first = new Ticker(40, 1);
    const second = new Ticker(40, 1);
    fileInOneSlot(clock, second, first);
    first.onFire = () => {
      second.deadline = 0;
      clock.delete(second);
    };
    await until(() => first.fired === 1);
    await sleep(100);
    assert.equal(second.fired, 0);
    clock.stop();
  });

  it('fires a session that a handler of the same slot filed again for later', async () => {
    const clock = new SessionClock(40, 40);
    const a = new Ticker(40, 1);
    const b = new Ticker(40, 2);
    fileInOneSlot(clock, b, a);
    a.onFire = () => {
      // Moves b's deadline later while it waits in the due list.
      b.deadline = Date.now() + 60;
      clock.add(b);
    };
    await until(() => b.fired === 2, 3000);
    assert.equal(a.fired, 1);
    clock.stop();
  });

  it('wakes at the start of each slot, so a heartbeat comes every heartbeatDelay, not a tick later', () => {
    // Mocked time: which slot the clock looks at, and when, is exact; nothing waits.
    mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: 1_000_037 });
    try {
      const clock = new SessionClock(1000, 5000); // a tick of 250 ms
      const ticker = new Ticker(1000, 20);
      const late: number[] = [];
      // Read before the ticker sets its next deadline, from the time of this fire.
      ticker.onFire = () => late.push(Date.now() - ticker.deadline);
      ticker.start(clock);
      // Steps of 5 ms: a fire reads the time at the end of the step it falls in.
      for (let step = 0; step < 25_000 / 5; step++) mock.timers.tick(5);
      assert.equal(ticker.fired, 20);
      // The first deadline falls anywhere in a tick and is rounded up to the next slot; the
      // next ones, set a step after the clock woke at a slot's start, come due at the next
      // slot's start, a step early at most (an eighth of a tick may be early).
      assert.ok(late[0] >= -31 && late[0] <= 250 + 5, `first fire ${late[0]} ms late`);
      assert.ok(
        late.slice(1).every((ms) => ms >= -31 && ms <= 5),
        `each later fire on time: ${late.join(', ')}`,
      );
      clock.stop();
    } finally {
      mock.timers.reset();
    }
  });
});
