/**
 * Messages between the benchmark runner and its two kinds of child processes: the target
 * server (one per run) and the load generator. Every request carries an id; the child
 * answers with the same id.
 */
import type { ChildProcess } from 'node:child_process';
import type { ScenarioSpec } from './scenarios';

/** Runner -> server. */
export type ServerRequest =
  | { id: number; type: 'cpu' }
  | { id: number; type: 'memory' }
  | { id: number; type: 'fanout'; index: number; bytes: number }
  | { id: number; type: 'exit' };

/** What a server reports: CPU in microseconds, memory in bytes (after full, compacting GCs). */
export interface CpuReply {
  user: number;
  system: number;
  /** Microseconds the main thread alone has run (user and kernel); absent where there is no /proc. */
  mainThread?: number;
  /** Read and write system calls so far; absent where there is no /proc. */
  reads?: number;
  writes?: number;
  /** Full (mark-compact) and young collections so far, and the main thread's pauses, ms. */
  majorCollections?: number;
  majorCollectionMs?: number;
  minorCollections?: number;
  minorCollectionMs?: number;
}
export interface MemoryReply {
  rss: number;
  /** Resident bytes of V8's young generation (new space and its large objects). */
  young: number;
  /** Resident bytes of V8's heap outside the young generation, after a compacting collection. */
  oldCommitted: number;
  /**
   * Bytes free in those pages after the ordinary full collections, before the compacting
   * one: what the collector's heuristics left between live objects. Null without gc().
   */
  oldFree: number | null;
  /**
   * Resident bytes of the main thread's malloc arena (the `[heap]` mapping): where Node's
   * native objects per socket live (libuv handles, parsers, write requests); null where
   * /proc does not say.
   */
  mallocArena: number | null;
  heapUsed: number;
  external: number;
  gc: boolean;
}

/** Runner -> load generator. */
export type ClientRequest =
  | { id: number; type: 'setup'; spec: ScenarioSpec; target: ClientTarget }
  | { id: number; type: 'measure'; durationMs: number }
  | { id: number; type: 'window-start' }
  | { id: number; type: 'window-end' }
  | { id: number; type: 'open-idle'; sessions: number }
  | { id: number; type: 'close-idle'; sessions: number }
  | { id: number; type: 'fanout-arrival'; index: number; timeoutMs: number }
  | { id: number; type: 'teardown' }
  | { id: number; type: 'exit' };

/** How the load generator reaches a target. */
export interface ClientTarget {
  name: string;
  port: number;
  /** `sockjs`: the SockJS wire protocol at /echo; `raw-ws`: plain websocket messages at /echo. */
  wire: 'sockjs' | 'raw-ws';
}

/** Fan-out: when the last session got message `index`, and the load's CPU time so far. */
export interface FanOutArrival {
  index: number;
  /** epochNow() of the last arrival, in milliseconds. */
  lastArrival: number;
  /** CPU time of the load generator and its workers since they started, microseconds. */
  clientCpuMicros: number;
  /** Unexpected frames and closed sessions so far. */
  errors: number;
}

/** What the load generator measured over one window. */
export interface LoadResult {
  /** Messages echoed (or sessions opened and closed) inside the window. */
  count: number;
  elapsedMs: number;
  /** Latency percentiles in milliseconds (per message, or per session open). */
  p50: number;
  p90: number;
  p99: number;
  max: number;
  errors: number;
  /** The load generator's own CPU use over the window, as a share of one core. */
  clientCpu: number;
  /** For idle-memory scenarios: sessions that are open. */
  openSessions: number;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Request/answer over a child's IPC channel, each request bounded in time so a stuck
 * child can never hang the run.
 */
export class IpcPeer {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(
    readonly child: ChildProcess,
    readonly label: string,
  ) {
    child.on('message', (message: { id?: number; error?: string; value?: unknown }) => {
      if (typeof message.id !== 'number') return;
      const entry = this.pending.get(message.id);
      if (entry === undefined) return;
      this.pending.delete(message.id);
      clearTimeout(entry.timer);
      if (message.error !== undefined) entry.reject(new Error(`${label}: ${message.error}`));
      else entry.resolve(message.value);
    });
    child.on('exit', (code, signal) => this.failAll(new Error(`${label} exited (${code ?? signal})`)));
  }

  request<T>(body: Record<string, unknown> & { type: string }, timeoutMs: number): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      if (!this.child.connected) {
        reject(new Error(`${this.label} is not running`));
        return;
      }
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.label}: no answer to ${body.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
      this.child.send({ ...body, id });
    });
  }

  private failAll(error: Error): void {
    for (const [id, entry] of this.pending) {
      clearTimeout(entry.timer);
      this.pending.delete(id);
      entry.reject(error);
    }
  }
}

/** Child side: answers requests with the value (or error) of `handler`. */
export function serveRequests(handler: (request: { id: number; type: string }) => unknown): void {
  process.on('message', (request: { id: number; type: string }) => {
    Promise.resolve()
      .then(() => handler(request))
      .then(
        (value) => process.send?.({ id: request.id, value }),
        (error: unknown) =>
          process.send?.({ id: request.id, error: error instanceof Error ? error.stack : String(error) }),
      );
  });
  // The runner went away (finished, crashed or was killed): never outlive it.
  process.on('disconnect', () => process.exit(0));
}
