/**
 * The one module that relies on private state or undocumented behaviour of a dependency
 * (ws, Node, Express). The tricks are checked when this module loads (compact-listeners,
 * repeated-end, frames-past-sender) or, where nothing can be checked before a request
 * exists, on each use (server-of-socket, release-routing, express-proxy-trust, direct-router); where a check fails, or
 * `SOCKJS_EXPRESS_PUBLIC_ONLY` turns a trick off, callers take the public API. Why each
 * trick is kept, and what it saves, is in docs/performance.md ("Dependency internals").
 *
 * `SOCKJS_EXPRESS_PUBLIC_ONLY=1` (or `all`) turns every trick off; a comma list of names
 * (`repeated-end,compact-listeners`) turns off those. The test suite runs once that way.
 *
 * One use is not a trick and has no public equivalent: answering an upgrade request over
 * HTTP needs a ServerResponse given a socket afterwards (responses for upgrades, below).
 */
import { EventEmitter } from 'node:events';
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { Writable } from 'node:stream';
import WebSocketClass from 'ws';

/** The tricks, by the name `SOCKJS_EXPRESS_PUBLIC_ONLY` turns them off with. */
export type DependencyTrick =
  | 'compact-listeners'
  | 'repeated-end'
  | 'frames-past-sender'
  | 'server-of-socket'
  | 'release-routing'
  | 'express-proxy-trust'
  | 'direct-router';

const ALL_TRICKS: readonly DependencyTrick[] = [
  'compact-listeners',
  'repeated-end',
  'frames-past-sender',
  'server-of-socket',
  'release-routing',
  'express-proxy-trust',
  'direct-router',
];

function turnedOff(): ReadonlySet<string> {
  const setting = (process.env.SOCKJS_EXPRESS_PUBLIC_ONLY ?? '').trim();
  if (setting === '' || setting === '0') return new Set();
  if (setting === '1' || setting === 'all') return new Set(ALL_TRICKS);
  return new Set(setting.split(',').map((name) => name.trim()));
}

const off = turnedOff();

/** Whether a check passes; any exception from a dependency's changed internals is a no. */
function holds(check: () => boolean): boolean {
  try {
    return check();
  } catch {
    // A dependency whose internals moved: the public path serves.
    return false;
  }
}

// ---- compact-listeners: Node's EventEmitter listener table ---------------------------------

/** What Node's EventEmitter keeps its listeners in (node:events, every supported version). */
interface ListenerTable {
  _events?: unknown;
  _eventsCount?: unknown;
}

/** Inherits nothing, so a name without listeners finds nothing, as in Node's own table. */
const NO_LISTENERS: object = Object.create(null) as object;

function replaceTable(emitter: EventEmitter): void {
  const table = emitter as unknown as ListenerTable;
  if (table._eventsCount !== 0 || typeof table._events !== 'object' || table._events === null) return;
  table._events = Object.create(NO_LISTENERS);
}

/** An emitter with a replaced table behaves as Node's: listeners added, run, removed, counted. */
function listenerTableWorks(): boolean {
  const emitter = new EventEmitter();
  const table = emitter as unknown as ListenerTable;
  if (table._eventsCount !== 0 || Object.getPrototypeOf(table._events) !== null) return false;
  replaceTable(emitter);
  let calls = 0;
  const listener = (): void => {
    calls++;
  };
  emitter.on('toString', listener);
  emitter.emit('toString');
  emitter.off('toString', listener);
  return calls === 1 && emitter.listenerCount('toString') === 0 && emitter.eventNames().length === 0;
}

const COMPACT_LISTENERS = !off.has('compact-listeners') && holds(listenerTableWorks);

/**
 * Gives an emitter that has no listeners yet a listener table of fixed shape. Node makes
 * the table with a null prototype, which V8 keeps as a hash table; an object inheriting
 * from an empty null-prototype object looks names up the same way but keeps its first
 * entries inside itself, as Node's own streams do.
 */
export function compactListeners(emitter: EventEmitter): void {
  if (COMPACT_LISTENERS) replaceTable(emitter);
}

// ---- repeated-end: ws's frame parser and the socket -----------------------------------------

type End = (chunk?: unknown, encoding?: unknown, callback?: unknown) => Writable;

/**
 * `end()` with no arguments on a stream that is already over: Node builds an Error, stack
 * trace and all, and drops it. ws makes that call three times for every websocket its peer
 * closes. This answers exactly those calls as Node does, minus the Error; every other call
 * goes to the stream's own `end()`.
 */
function endUnlessOver(this: Writable, chunk?: unknown, encoding?: unknown, callback?: unknown): Writable {
  if (
    chunk === undefined &&
    encoding === undefined &&
    callback === undefined &&
    this.writableCorked === 0 &&
    this.writableEnded &&
    (this.writableFinished || this.destroyed)
  ) {
    return this;
  }
  const inherited = (Object.getPrototypeOf(this) as { end: End }).end;
  return inherited.call(this, chunk, encoding, callback);
}

/** ws's frame parser is a Writable it keeps in a private field of each websocket. */
const REPEATED_END =
  !off.has('repeated-end') &&
  holds(() => typeof Writable.prototype.end === 'function' && 'writableFinished' in Writable.prototype);

/**
 * A ws WebSocket, as far as these tricks read it. Written out rather than imported from ws,
 * so that the published declarations need no `@types/ws`; ws's WebSocket fits it.
 */
export interface WsSocket {
  /** The negotiated extensions, `''` for none. */
  readonly extensions: string;
}

function frameParser(ws: WsSocket): Writable | null {
  const parser = (ws as unknown as { _receiver?: unknown })._receiver;
  return parser instanceof Writable ? parser : null;
}

/** Spares a websocket's frame parser and socket the dropped Errors of repeated `end()` calls. */
export function skipRepeatedEnds(ws: WsSocket, socket: Writable | null): void {
  if (!REPEATED_END) return;
  const parser = frameParser(ws);
  if (parser !== null) (parser as unknown as { end: End }).end = endUnlessOver;
  if (socket !== null) (socket as unknown as { end: End }).end = endUnlessOver;
}

// ---- frames-past-sender: writing ready-made frames to a websocket's socket ------------------

/**
 * Whether ws writes an uncompressed frame to its socket at once, as exactly the bytes this
 * package builds: then, on a socket with no extension, ws holds nothing a frame written
 * straight to the socket could overtake. Checked on a Sender over a recording socket.
 */
function senderWritesAtOnce(): boolean {
  const written: Buffer[] = [];
  const socket = {
    cork(): void {},
    uncork(): void {},
    write(chunk: Buffer | string): boolean {
      written.push(Buffer.from(chunk));
      return true;
    },
  };
  const Sender = (WebSocketClass as unknown as { Sender?: SenderClass }).Sender;
  if (typeof Sender !== 'function') return false;
  const sender = new Sender(socket);
  const noop = (): void => {};
  sender.send(Buffer.from('h'), { binary: false, fin: true, mask: false, compress: false }, noop);
  sender.ping(Buffer.alloc(0), false, noop);
  return Buffer.concat(written).equals(Buffer.from([0x81, 0x01, 0x68, 0x89, 0x00]));
}
/** The part of ws's frame writer (exported, untyped) the check uses. */
type SenderClass = new (socket: object) => {
  send(data: Buffer, options: object, callback: () => void): void;
  ping(data: Buffer, mask: boolean, callback: () => void): void;
};

const FRAMES_PAST_SENDER = !off.has('frames-past-sender') && holds(senderWritesAtOnce);

/**
 * Whether ready-made frames may go straight to this websocket's socket while it is open:
 * the check above held and no extension (permessage-deflate) was negotiated.
 */
export function writesFramesDirectly(ws: WsSocket): boolean {
  return FRAMES_PAST_SENDER && ws.extensions === '';
}

// ---- server-of-socket: the http server a request came through -------------------------------

const SERVER_OF_SOCKET = !off.has('server-of-socket');

/**
 * The server that accepted a request's connection: Node sets `socket.server` on every
 * socket a `net.Server` accepts, undocumented. Null when it is not there.
 */
export function serverOf(req: IncomingMessage): EventEmitter | null {
  if (!SERVER_OF_SOCKET) return null;
  const server = (req.socket as Socket & { server?: unknown }).server;
  return server instanceof EventEmitter ? server : null;
}

// ---- release-routing: Express's hold on a finished request ----------------------------------

const RELEASE_ROUTING = !off.has('release-routing');

/**
 * Express keeps the `next` of the last router a request passed in `req.next`: closures of
 * every router on the way, alive as long as a streaming response. Dropped once a service
 * holds a request's streaming response or socket (websockets); polls, which end within a
 * heartbeat, and requests it answers at once are left alone, since each write to a request
 * under Express is a slow one.
 */
export function releaseRouting(req: IncomingMessage): void {
  const routed = req as { next?: unknown };
  if (RELEASE_ROUTING && typeof routed.next === 'function') routed.next = undefined;
}

// ---- direct-router: the service's router without a second dispatch loop --------------------

const DIRECT_ROUTER = !off.has('direct-router');

/** A Connect-style handler, as Express routers call them. */
type RouteHandler = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;

/** What an Express Router (4 or 5, the `router` package) keeps on itself, undocumented. */
interface RouterState {
  stack?: unknown;
  handle?: unknown;
}

/**
 * The router a service returns, made to call `handler` straight away while the router's
 * layer list (`router.stack`, undocumented) holds nothing but it: Express 4 and 5 then
 * skip the inner dispatch loop (its closures, the path and method matching of the one
 * layer), about as much work again per request as the service's own for a poll. Once the
 * application adds its own middleware to the router, every request takes `router.handle()`
 * as before. The result is a function with the router's prototype and own properties, so
 * it is the same Router to everyone who uses it. Without the trick, `router` itself.
 */
export function directRouter<R extends RouteHandler>(router: R, handler: RouteHandler): R {
  if (!DIRECT_ROUTER) return router;
  const state = router as unknown as RouterState;
  const stack = state.stack;
  if (!Array.isArray(stack) || stack.length !== 1 || typeof state.handle !== 'function') return router;
  const direct = function sockjsRouter(
    req: IncomingMessage,
    res: ServerResponse,
    next: (error?: unknown) => void,
  ): void {
    if (stack.length !== 1 || (direct as unknown as RouterState).stack !== stack) {
      (direct as unknown as { handle: RouteHandler }).handle(req, res, next);
      return;
    }
    try {
      handler(req, res, next);
    } catch (error) {
      // What the router's layer does with an exception: the app's error handlers hear it.
      next(error);
    }
  };
  Object.setPrototypeOf(direct, Object.getPrototypeOf(router) as object);
  for (const key of Reflect.ownKeys(router)) {
    if (key === 'length' || key === 'name' || key === 'prototype') continue;
    const descriptor = Object.getOwnPropertyDescriptor(router, key);
    if (descriptor !== undefined) Object.defineProperty(direct, key, descriptor);
  }
  return direct as unknown as R;
}

// ---- express-proxy-trust: which proxies the app believes ------------------------------------

const EXPRESS_PROXY_TRUST = !off.has('express-proxy-trust');

/** Whether the proxy at `hop` (0: the peer of the socket) may set X-Forwarded-* headers. */
export type ProxyTrust = (address: string, hop: number) => boolean;

/**
 * The app's `trust proxy` setting as Express compiles it (`app.get('trust proxy fn')`,
 * undocumented, in Express 4 and 5): the rule behind `req.hostname` and `req.protocol`,
 * kept so requests that reach a service before the app (the fast path) are judged by the
 * same rule. Null when the request went through no Express app, or the setting is missing.
 */
export function expressProxyTrust(req: IncomingMessage): ProxyTrust | null {
  if (!EXPRESS_PROXY_TRUST) return null;
  const app = (req as { app?: unknown }).app;
  if (typeof app !== 'function') return null;
  const get = (app as { get?: unknown }).get;
  if (typeof get !== 'function') return null;
  const trust: unknown = (get as (setting: string) => unknown).call(app, 'trust proxy fn');
  return typeof trust === 'function' ? (trust as ProxyTrust) : null;
}

// ---- responses for upgrades: a ServerResponse given its socket later -------------------------

/**
 * Node's `ServerResponse.prototype.assignSocket()`, missing from Node's documentation but
 * there in every supported version: a response made before it has a socket buffers what is
 * written to it, and sends it once given one.
 */
const ASSIGN_SOCKET =
  typeof (ServerResponse.prototype as { assignSocket?: unknown }).assignSocket === 'function';

/** Whether upgrade requests can be answered over HTTP through an application. */
export const RESPONSES_FOR_UPGRADES = ASSIGN_SOCKET;

/**
 * A response to an upgrade request, tied to no socket yet, that closes its connection
 * after the answer (`shouldKeepAlive`, undocumented, is what Node's server sets for that).
 */
export function responseForUpgrade(req: IncomingMessage): ServerResponse {
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false;
  return res;
}

/** Sends what was written to `res` so far, and all that follows, to `socket`. */
export function giveSocket(res: ServerResponse, socket: Duplex): void {
  res.assignSocket(socket as Parameters<ServerResponse['assignSocket']>[0]);
}

/** Which tricks are in use in this process (for tests and the bench report). */
export const TRICKS_IN_USE: Readonly<Record<DependencyTrick, boolean>> = Object.freeze({
  'compact-listeners': COMPACT_LISTENERS,
  'repeated-end': REPEATED_END,
  'frames-past-sender': FRAMES_PAST_SENDER,
  'server-of-socket': SERVER_OF_SOCKET,
  'release-routing': RELEASE_ROUTING,
  'express-proxy-trust': EXPRESS_PROXY_TRUST,
  'direct-router': DIRECT_ROUTER,
});
