/**
 * A target server's side of the fan-out scenarios. The runner sets BENCH_FANOUT only for
 * fan-out runs, so that in every other scenario the servers track nothing more than before.
 */

import { runnerHeartbeatMs } from './serve';

/** Sends one message to every open connection; may finish asynchronously (`publish()`). */
export type Broadcast = (message: string) => unknown;

/** `loop`: the application's loop over its connections; `publish`: the library's broker. */
export type FanOutWay = 'loop' | 'publish';

export function fanOutWay(): FanOutWay | null {
  const way = process.env['BENCH_FANOUT'];
  if (way === undefined || way === '') return null;
  if (way !== 'loop' && way !== 'publish')
    throw new Error(`BENCH_FANOUT must be loop or publish, not ${way}`);
  return way;
}

/**
 * The heartbeat period every target uses in fan-out runs: longer than any run, so that no
 * server's heartbeats (`h` frames or pings, due 25 s after a session opened) fall among
 * the measured messages of a run whose sessions took seconds to open. Fan-out measures
 * broadcasting; ws-idle-heartbeat measures heartbeats. Otherwise `BENCH_HEARTBEAT_MS` when
 * the runner shortens it (the idle-scale runner), else `usual`.
 */
export function heartbeatMs(usual: number): number {
  if (fanOutWay() !== null) return 600_000;
  return runnerHeartbeatMs() ?? usual;
}

interface Writable {
  write(message: string): unknown;
  on(event: 'close', listener: () => void): unknown;
}

/**
 * What an application without a broker writes: a Set of open connections and a loop of
 * `write()` over it.
 */
export function connectionLoop<C extends Writable>(): { add(conn: C): void; broadcast: Broadcast } {
  const connections = new Set<C>();
  return {
    add(conn) {
      connections.add(conn);
      conn.on('close', () => connections.delete(conn));
    },
    broadcast(message) {
      for (const conn of connections) conn.write(message);
    },
  };
}
