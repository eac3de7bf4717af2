/**
 * The fan-out load, in the load generator: the sessions split over worker processes
 * (fan-out-worker.ts), each with its own source address, and the runner's question
 * answered: when did the last session get message i?
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { ClientTarget, FanOutArrival } from '../ipc';
import type { ScenarioSpec } from '../scenarios';
import { Recorder, withTimeout, type Load } from './common';

/**
 * Sessions one worker holds: a quarter of this machine's 20,000 open files per process,
 * and far from the ~28,000 ephemeral ports of its source address.
 */
const SESSIONS_PER_WORKER = 5000;

/** Load generator -> worker. */
export interface FanOutWorkerOrder {
  target: ClientTarget;
  transport: 'websocket' | 'xhr-streaming';
  sessions: number;
  localAddress: string;
}

/** Worker -> load generator. */
export type FanOutWorkerReport =
  | { type: 'opened'; sessions: number }
  | { type: 'failed'; error: string }
  /** Every session of the worker has message `index`, the last at `at` (epochNow()). */
  | { type: 'arrived'; index: number; at: number; cpuMicros: number; errors: number };

interface Worker {
  child: ChildProcess;
  cpuMicros: number;
  errors: number;
}

interface Progress {
  workers: number;
  last: number;
}

export class FanOut implements Load {
  readonly recorder = new Recorder();
  private readonly workers: Worker[] = [];
  private readonly progress = new Map<number, Progress>();
  private readonly waiting = new Map<number, (arrival: FanOutArrival) => void>();
  private readonly done = new Map<number, FanOutArrival>();
  private opened = 0;

  constructor(
    private readonly spec: ScenarioSpec,
    private readonly target: ClientTarget,
  ) {}

  async setup(): Promise<void> {
    const count = Math.ceil(this.spec.sessions / SESSIONS_PER_WORKER);
    const started: Promise<void>[] = [];
    // A block of loopback addresses of its own per run (127.<block>.0.2, .3, ...): the ports
    // a run leaves in TIME_WAIT for a minute are not in the next runs' way, as they were
    // when six targets in a row opened 5,000 sessions each from 127.0.0.2.
    const block = 1 + Math.floor(Math.random() * 250);
    for (let i = 0; i < count; i++) {
      const sessions = Math.min(SESSIONS_PER_WORKER, this.spec.sessions - i * SESSIONS_PER_WORKER);
      // Each worker's ephemeral ports are its own.
      started.push(
        this.startWorker({
          target: this.target,
          transport: this.transport(),
          sessions,
          localAddress: `127.${block}.0.${2 + i}`,
        }),
      );
    }
    await Promise.all(started);
  }

  private transport(): FanOutWorkerOrder['transport'] {
    if (this.spec.transport === 'xhr-polling') throw new Error('no fan-out over xhr-polling');
    return this.spec.transport;
  }

  private startWorker(order: FanOutWorkerOrder): Promise<void> {
    // Forked with the load generator's core pinning, which a child inherits.
    const child = fork(join(__dirname, 'fan-out-worker.js'), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const worker: Worker = { child, cpuMicros: 0, errors: 0 };
    this.workers.push(worker);
    return new Promise<void>((resolve, reject) => {
      child.once('exit', (code) =>
        reject(new Error(`fan-out worker exited (${code}) before its sessions opened`)),
      );
      child.on('message', (report: FanOutWorkerReport) => {
        if (report.type === 'opened') {
          this.opened += report.sessions;
          resolve();
        } else if (report.type === 'failed') {
          reject(new Error(`fan-out worker: ${report.error}`));
        } else {
          worker.cpuMicros = report.cpuMicros;
          worker.errors = report.errors;
          this.arrived(report.index, report.at);
        }
      });
      child.send(order);
    });
  }

  private arrived(index: number, at: number): void {
    const progress = this.progress.get(index) ?? { workers: 0, last: 0 };
    progress.workers++;
    progress.last = Math.max(progress.last, at);
    if (progress.workers < this.workers.length) {
      this.progress.set(index, progress);
      return;
    }
    this.progress.delete(index);
    const own = process.cpuUsage();
    const arrival: FanOutArrival = {
      index,
      lastArrival: progress.last,
      clientCpuMicros: this.workers.reduce((sum, w) => sum + w.cpuMicros, own.user + own.system),
      errors: this.workers.reduce((sum, w) => sum + w.errors, 0),
    };
    const resolve = this.waiting.get(index);
    this.waiting.delete(index);
    // Kept for a question still on its way: the runner asks before it triggers the message,
    // but the question and the workers' reports travel on different channels.
    if (resolve === undefined) this.done.set(index, arrival);
    else resolve(arrival);
  }

  /** Resolves once every session has message `index`. */
  arrival(index: number, timeoutMs: number): Promise<FanOutArrival> {
    const done = this.done.get(index);
    if (done !== undefined) {
      this.done.delete(index);
      return Promise.resolve(done);
    }
    return withTimeout(
      new Promise<FanOutArrival>((resolve) => this.waiting.set(index, resolve)),
      timeoutMs,
      `message ${index} to reach all ${this.opened} sessions`,
    );
  }

  openSessions(): number {
    return this.opened;
  }

  async teardown(): Promise<void> {
    const exits = this.workers.map(
      (w) =>
        new Promise<void>((resolve) => {
          if (w.child.exitCode !== null || w.child.signalCode !== null) resolve();
          else w.child.once('exit', () => resolve());
        }),
    );
    for (const w of this.workers) if (w.child.connected) w.child.disconnect();
    await withTimeout(Promise.all(exits), 10_000, 'fan-out workers to exit').catch(() => {
      for (const w of this.workers) w.child.kill('SIGKILL');
    });
    this.workers.length = 0;
  }
}
