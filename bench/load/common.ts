/** Pieces every load shares: the counters of one measurement window, and the payload. */
import type { LoadResult } from '../ipc';
import type { ScenarioSpec } from '../scenarios';

/** A message of `bytes` ASCII letters and digits: no character JSON or SockJS escapes. */
export function payload(bytes: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  let text = '';
  for (let i = 0; i < bytes; i++) text += alphabet[(i * 7 + 3) % alphabet.length];
  return text;
}

/**
 * One loopback source address has about 28,000 ephemeral ports: past that many sessions
 * (or the scenario's own `sessionsPerSourceAddress`), the next ones come from 127.0.0.2,
 * 127.0.0.3, ... (all of 127/8 is loopback on Linux). Undefined: the default, 127.0.0.1.
 */
export function sourceAddress(index: number, spec: ScenarioSpec): string | undefined {
  const extra = Math.floor(index / (spec.sessionsPerSourceAddress ?? 25_000));
  return extra === 0 ? undefined : `127.0.0.${1 + extra}`;
}

/** Milliseconds on a monotonic clock. */
export function now(): number {
  return performance.now();
}

/**
 * One session's sends at an offered load (ScenarioSpec.offeredPerSecond): one every
 * `intervalMs`, the sessions' schedules spread over one interval. Without an offered load a
 * session has none (`of()` gives null) and sends again as soon as its last message is back.
 */
export class SendSchedule {
  private due = 0;

  private constructor(
    private readonly intervalMs: number,
    private readonly offsetMs: number,
  ) {}

  /** The schedule of session `index` of the scenario's, or null when it is a closed loop. */
  static of(spec: ScenarioSpec, index: number): SendSchedule | null {
    const offered = spec.offeredPerSecond;
    if (offered === undefined) return null;
    if (spec.inFlight !== 1)
      throw new Error(`${spec.id}: an offered load paces one message in flight per session`);
    const intervalMs = (1000 * spec.sessions) / offered;
    return new SendSchedule(intervalMs, (intervalMs * index) / spec.sessions);
  }

  /** Calls `send` at the session's first slot from now. */
  start(send: () => void): void {
    this.due = now() + this.offsetMs;
    setTimeout(send, this.offsetMs);
  }

  /** Calls `send` at the next slot, or at once when late: a slow round trip is not made up with a burst. */
  next(send: () => void): void {
    this.due = Math.max(this.due + this.intervalMs, now());
    setTimeout(send, this.due - now());
  }
}

/** Counts completed operations and their latencies inside one measurement window. */
export class Recorder {
  count = 0;
  errors = 0;
  private samples: number[] = [];
  private started = now();
  private cpu = process.cpuUsage();

  /** Starts a new window. */
  reset(): void {
    this.count = 0;
    this.errors = 0;
    this.samples = [];
    this.started = now();
    this.cpu = process.cpuUsage();
  }

  record(latencyMs: number): void {
    this.count++;
    // Bounded: a window keeps at most a million samples.
    if (this.samples.length < 1_000_000) this.samples.push(latencyMs);
  }

  error(): void {
    this.errors++;
  }

  result(openSessions: number): LoadResult {
    const elapsedMs = now() - this.started;
    const cpu = process.cpuUsage(this.cpu);
    const sorted = Float64Array.from(this.samples).sort();
    const at = (q: number): number =>
      sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    return {
      count: this.count,
      elapsedMs,
      p50: at(0.5),
      p90: at(0.9),
      p99: at(0.99),
      max: sorted.length === 0 ? NaN : sorted[sorted.length - 1],
      errors: this.errors,
      clientCpu: (cpu.user + cpu.system) / 1000 / elapsedMs,
      openSessions,
    };
  }
}

/** One scenario's load against one target, driven by the runner through client.ts. */
export interface Load {
  readonly recorder: Recorder;
  /** Opens the sessions (echo, open-close: and starts the traffic). */
  setup(): Promise<void>;
  /** Idle scenarios only: opens this many more idle sessions, resolving once all are open. */
  openIdle?(count: number): Promise<void>;
  /** Idle scenarios only: closes the last `count` sessions opened, as their clients leaving would. */
  closeIdle?(count: number): void;
  /** Sessions currently open. */
  openSessions(): number;
  /** Stops the traffic and closes everything. */
  teardown(): Promise<void>;
}

/** Runs `task` for 0..count-1 with at most `limit` running at once. */
export async function pooled(
  count: number,
  limit: number,
  task: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
}

/** A random session id, as sockjs-client makes them. */
export function sessionId(): string {
  return Math.random().toString(36).slice(2, 10) + Math.random().toString(36).slice(2, 10);
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Rejects after `ms` milliseconds with `what` in the message. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
