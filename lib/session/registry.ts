import type { IncomingMessage } from 'node:http';
import type { LogFunction, LogSeverity } from '../options';
import type { Connection } from './connection';
import { Session, type SessionHost } from './session';
import { SessionClock } from './clock';
import { FlushList } from './flush-list';
import { RepeatedMessage } from './repeated-message';
import { TrafficCounters } from './traffic';
import { IndexedSet } from './indexed-set';
import { UNTIL_DISCONNECT_DELAY, WHILE_SOCKET_LIVES } from './lifetime';
import { ReadyState } from './ready-state';
import type { ConnectionProtocol } from '../transports/receiver';

/** Why a new session may not open: the service is closing, or `maxSessions` are open. */
export type SessionRefusal = 'closing' | 'full';

/** The settings a registry and its sessions read. */
export interface RegistrySettings {
  readonly heartbeatDelay: number;
  readonly disconnectDelay: number;
  readonly maxQueuedBytes: number;
  readonly highWaterMark: number;
  /** Infinity when there is no limit. */
  readonly maxSessions: number;
  readonly log: LogFunction;
}

/** Hears the HTTP sessions of a registry come and go. */
export interface SessionWatcher {
  /** A new HTTP session, opened by the receiving request `opener`, before it is attached to. */
  opened?(session: Session, opener: IncomingMessage): void;
  /** An HTTP session forgotten: its id may be claimed elsewhere again. */
  forgotten?(session: Session): void;
}

/** Open connections by transport. */
export type OpenConnections = Partial<Record<ConnectionProtocol, number>>;

/**
 * Every session of one service, HTTP and websocket alike, from the moment it opens until it
 * is forgotten (its lifetime says when: `disconnectDelay` after an HTTP session's last
 * receiver, the end of a websocket session's socket). Limits, statistics and shutdown walk
 * this one collection. HTTP sessions are also found by the id of their URLs.
 */
export class SessionRegistry implements SessionHost {
  readonly traffic = new TrafficCounters();
  readonly clock: SessionClock;
  readonly repeated = new RepeatedMessage();
  readonly flushes = new FlushList(this.repeated);
  readonly heartbeatDelay: number;
  readonly disconnectDelay: number;
  readonly maxQueuedBytes: number;
  readonly highWaterMark: number;
  private readonly byId = new Map<string, Session>();
  private readonly live = new IndexedSet<Session>();
  private readonly watchers: SessionWatcher[] = [];
  private closing = false;
  private emptied: (() => void) | null = null;

  constructor(
    private readonly settings: RegistrySettings,
    /** Announces a new connection to the application. */
    private readonly announce: (connection: Connection) => void,
  ) {
    this.heartbeatDelay = settings.heartbeatDelay;
    this.disconnectDelay = settings.disconnectDelay;
    this.maxQueuedBytes = settings.maxQueuedBytes;
    this.highWaterMark = settings.highWaterMark;
    this.clock = new SessionClock(settings.heartbeatDelay, settings.disconnectDelay);
  }

  /** Tells `watcher` of every HTTP session opened and forgotten from now on. */
  watch(watcher: SessionWatcher): void {
    this.watchers.push(watcher);
  }

  /** Sessions that count against `maxSessions`: every one not forgotten yet. */
  get size(): number {
    return this.live.size;
  }

  /** Every session not forgotten yet, HTTP and websocket. */
  all(): Session[] {
    return this.live.toArray();
  }

  /** The HTTP session with this id, if this process holds it. */
  get(id: string): Session | undefined {
    return this.byId.get(id);
  }

  /** Why a new session may not open now; null when it may. `log`: say so past the limit. */
  refusal(log = true): SessionRefusal | null {
    if (this.closing) return 'closing';
    if (this.live.size >= this.settings.maxSessions) {
      if (log) this.log('info', `session refused: ${this.settings.maxSessions} sessions open (maxSessions)`);
      return 'full';
    }
    return null;
  }

  /**
   * A new HTTP session, found by `id` until it is forgotten. Ask refusal() first.
   * @param opener the receiving request that opens it
   */
  openById(id: string, prefix: string, opener: IncomingMessage): Session {
    const session = new Session(id, this, prefix, UNTIL_DISCONNECT_DELAY);
    this.byId.set(id, session);
    this.live.add(session);
    for (const watcher of this.watchers) watcher.opened?.(session, opener);
    return session;
  }

  /** A new websocket session: found by its socket only, forgotten when the socket closes. */
  openForSocket(id: string, prefix: string): Session {
    const session = new Session(id, this, prefix, WHILE_SOCKET_LIVES);
    this.live.add(session);
    return session;
  }

  /** Open connections by transport. */
  openConnections(): { total: number; byProtocol: OpenConnections } {
    const byProtocol: OpenConnections = {};
    let total = 0;
    this.live.forEach((session) => {
      if (session.readyState !== ReadyState.OPEN) return;
      const protocol = session.connection.protocol;
      if (protocol === '') return;
      byProtocol[protocol] = (byProtocol[protocol] ?? 0) + 1;
      total++;
    });
    return { total, byProtocol };
  }

  /**
   * New sessions are refused from now on; every session gets `code` and `reason` after
   * what is queued for it. Resolves once every session is forgotten: HTTP sessions at
   * once, websocket sessions when their sockets have closed.
   */
  shutdown(code: number, reason: string): Promise<void> {
    this.closing = true;
    const done = new Promise<void>((resolve) => {
      this.emptied = resolve;
    });
    for (const session of this.all()) session.shutdown(code, reason);
    this.resolveIfEmpty();
    return done;
  }

  log(severity: LogSeverity, message: string): void {
    this.settings.log(severity, message);
  }

  connectionOpened(connection: Connection): void {
    this.announce(connection);
  }

  sessionForgotten(session: Session): void {
    if (!this.live.delete(session)) return;
    if (this.byId.get(session.id) === session) {
      this.byId.delete(session.id);
      for (const watcher of this.watchers) watcher.forgotten?.(session);
    }
    this.resolveIfEmpty();
  }

  private resolveIfEmpty(): void {
    if (this.live.size > 0 || this.emptied === null) return;
    const emptied = this.emptied;
    this.emptied = null;
    this.clock.stop();
    emptied();
  }
}
