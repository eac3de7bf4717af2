/**
 * A tracked connection for the broker benchmarks: it only counts what the broker gives it
 * (and hands each message to `seen`), so a figure is the broker's and Redis's alone.
 */
import type { Connection } from '../lib';
import type { ConnectionSource } from '../lib/redis';

export interface CountingConnection {
  /** Announces the connection to the broker that attaches it. */
  readonly source: ConnectionSource;
  /** The connection, for `broker.join()`. */
  readonly connection: Connection;
  count(): number;
}

export function countingConnection(seen: (message: string) => void = () => undefined): CountingConnection {
  let count = 0;
  const connection = {
    readyState: 1,
    write: (message: string) => {
      count++;
      seen(message);
      return true;
    },
    writeShared: (shared: { text: string }) => {
      count++;
      seen(shared.text);
      return true;
    },
    once: () => connection,
    off: () => connection,
  } as unknown as Connection;
  return {
    source: { on: (_event, listener) => listener(connection) },
    connection,
    count: () => count,
  };
}
