import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LogFunction } from './options';
import type { Session } from './session/session';
import type { SessionWatcher } from './session/registry';
import { interceptRequests, type AnyServer } from './server-hook';
import { serverOf } from './internals';

/**
 * Most base URLs one HTTP server serves on the fast path at once. Past it, sessions opened
 * at other bases work as usual, every request of theirs through the app.
 */
export const MAX_FAST_PATH_BASES = 1024;

/** What the fast path hands a request to: the front door of a service (front-door.ts). */
export interface HeldSessionDoor {
  /** Serves a follow-up request of a session the service holds; false (untouched) for any other. */
  serveHeldSession(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    base: string,
    sessionId: string,
  ): boolean;
}

/** Where a server keeps its FastPathTable. */
export const FAST_PATHS = Symbol('sockjs.fastPaths');
type FastServer = AnyServer & { [FAST_PATHS]?: FastPathTable };

/** One base URL on the fast path: the service there, and how many of its sessions were opened there. */
interface FastBase {
  readonly door: HeldSessionDoor;
  sessions: number;
}

/** Characters RFC 3986 calls unreserved: their percent-escapes mean the character itself. */
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
const NOT_PLAIN = /%|\/\/|\/$/;

/**
 * One key for the spellings of one base URL, so that `/t/J`, `/t/%4a` and `/t/%4A` (the
 * same tenant to the router) take one entry: escapes of unreserved characters decoded, the
 * others in capitals (RFC 3986, section 6.2.2), runs of `/` made one, a trailing `/`
 * dropped. It only groups: a request is served at the very base its session was opened
 * at, or not at all (FrontDoor.serveHeldSession).
 */
export function baseKey(base: string): string {
  if (!NOT_PLAIN.test(base)) return base;
  return base
    .replace(/%([0-9A-Fa-f]{2})/g, (_escape: string, hex: string) => {
      const character = String.fromCharCode(parseInt(hex, 16));
      return UNRESERVED.test(character) ? character : `%${hex.toUpperCase()}`;
    })
    .replace(/\/{2,}/g, '/')
    .replace(/\/$/, '');
}

/**
 * The base URLs one server serves on the fast path: only those with a session open, at
 * most MAX_FAST_PATH_BASES, each released with its last session.
 */
export class FastPathTable {
  private readonly bases = new Map<string, FastBase>();
  /** Whether the log has heard that the table is full, since it last had room. */
  private saidFull = false;

  constructor(
    private readonly limit: number,
    private readonly log: LogFunction,
  ) {}

  /** Base URLs served now. */
  get size(): number {
    return this.bases.size;
  }

  /**
   * Counts one more session of `door` at `key`; false when the base is another service's or
   * the table is full (the session is then served through the app only).
   */
  hold(key: string, door: HeldSessionDoor): boolean {
    const entry = this.bases.get(key);
    if (entry !== undefined) {
      if (entry.door !== door) return false;
      entry.sessions++;
      return true;
    }
    if (this.bases.size >= this.limit) {
      if (!this.saidFull) {
        this.saidFull = true;
        this.log('info', `fast path: ${this.limit} base URLs in use; sessions at others go through the app`);
      }
      return false;
    }
    this.bases.set(key, { door, sessions: 1 });
    return true;
  }

  /** One session counted by hold() is forgotten; the base goes with its last one. */
  release(key: string, door: HeldSessionDoor): void {
    const entry = this.bases.get(key);
    if (entry === undefined || entry.door !== door) return;
    entry.sessions--;
    if (entry.sessions > 0) return;
    this.bases.delete(key);
    this.saidFull = false;
  }

  /** `BASE/<server>/<session>/<transport>` for a session its service holds: answered here. */
  serve(req: IncomingMessage, res: ServerResponse): boolean {
    // Every request of the server passes here: with no session open, it costs nothing more.
    if (this.bases.size === 0) return false;
    const url = req.url;
    if (url === undefined) return false;
    const queryStart = url.indexOf('?');
    const path = queryStart === -1 ? url : url.slice(0, queryStart);
    const transportSlash = lastSlashBefore(path, path.length);
    if (transportSlash <= 0) return false;
    const sessionSlash = lastSlashBefore(path, transportSlash);
    if (sessionSlash <= 0) return false;
    const serverSlash = lastSlashBefore(path, sessionSlash);
    if (serverSlash < 0) return false;
    const base = path.slice(0, serverSlash);
    const entry = this.bases.get(baseKey(base));
    if (entry === undefined) return false;
    return entry.door.serveHeldSession(
      req,
      res,
      url.slice(serverSlash),
      base,
      path.slice(sessionSlash + 1, transportSlash),
    );
  }
}

const SLASH = 0x2f;

/**
 * The index of the last `/` in `path` before index `end`, or -1. `String#lastIndexOf` is a
 * call into V8's runtime (about 200 instructions a call here, counted with callgrind),
 * where the segments it walks back over are a few characters each.
 */
function lastSlashBefore(path: string, end: number): number {
  let i = end - 1;
  while (i >= 0 && path.charCodeAt(i) !== SLASH) i--;
  return i;
}

/** The fast path table of `server`, made (and put ahead of the server's listeners) on first use. */
function tableOf(server: AnyServer, log: LogFunction): FastPathTable {
  const fast = server as FastServer;
  const existing = fast[FAST_PATHS];
  if (existing !== undefined) return existing;
  const table = new FastPathTable(MAX_FAST_PATH_BASES, log);
  Object.defineProperty(server, FAST_PATHS, { value: table });
  interceptRequests(server, (req, res) => table.serve(req, res));
  return table;
}

/**
 * The `fastPath` option of one service. Once a session is open, its follow-up requests
 * (sends and polls) are served by the HTTP server before the app: the session id in the URL
 * is an unguessable capability, and the request that opened the session went through every
 * middleware. Origins and limits still apply: the route table is the same. The base URL a
 * session was opened at is served so while any session opened there lives; nothing else a
 * client asks for (info, greetings, unknown URLs) puts a base on the fast path. Where the
 * server of a request cannot be told (lib/internals.ts), every request goes through the app.
 */
export class FastPathSessions implements SessionWatcher {
  /** The sessions counted on a table, and under which key: each is released once. */
  private readonly counted = new Map<Session, { readonly table: FastPathTable; readonly key: string }>();

  constructor(
    private readonly door: HeldSessionDoor,
    private readonly log: LogFunction,
  ) {}

  /** Every session of a sockjsMiddleware() service is opened by a request through the app. */
  opened(session: Session, opener: IncomingMessage): void {
    const server = serverOf(opener) as FastServer | null;
    if (server === null || typeof (server as Partial<AnyServer>).listen !== 'function') return;
    const table = tableOf(server, this.log);
    const key = baseKey(session.connection.prefix);
    if (table.hold(key, this.door)) this.counted.set(session, { table, key });
  }

  forgotten(session: Session): void {
    const counted = this.counted.get(session);
    if (counted === undefined) return;
    this.counted.delete(session);
    counted.table.release(counted.key, this.door);
  }
}
