import type { Connection } from '../session/connection';

/** Anything that announces connections: a `sockjsMiddleware()` router, a `createServer()` server. */
export interface ConnectionSource {
  on(event: 'connection', listener: (connection: Connection) => void): unknown;
}

/**
 * Messages to many connections: to every tracked connection, or to the members of a named
 * group. `createBroker()` of the main entry makes one for the connections of one process;
 * `createBroker()` of `sockjs-express/redis` makes one that reaches every process, whose
 * type extends this one. Code written against this interface runs with either.
 */
export interface Broker {
  /** This broker's id, `<host>/<pid>/<8 hex digits>`; with Redis, the process's id among the brokers. */
  readonly id: string;
  /**
   * Every connection `source` announces from now on is tracked: it receives `publish()`,
   * and leaves its groups when it closes.
   */
  attach(source: ConnectionSource): void;
  /**
   * Sends `message` to every tracked connection. Resolves with how far it went: the number
   * of connections it was written to (in one process), or of processes Redis delivered it
   * to (`sockjs-express/redis`).
   */
  publish(message: string): Promise<number>;
  /** Sends `message` to the members of `group`; resolves like `publish()`. */
  publishTo(group: string, message: string): Promise<number>;
  /**
   * Adds a connection to a group. Resolves once messages published to the group from now
   * on reach it.
   */
  join(connection: Connection, group: string): Promise<void>;
  /** Removes a connection from a group; closed connections leave their groups by themselves. */
  leave(connection: Connection, group: string): Promise<void>;
  /** The groups a connection of this process is in. */
  groupsOf(connection: Connection): readonly string[];
  /** Stops: connections are no longer tracked, groups are forgotten, and `publish()` rejects. */
  close(): Promise<void>;
}
