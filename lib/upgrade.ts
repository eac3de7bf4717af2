import { STATUS_CODES, Server as HttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { RESPONSES_FOR_UPGRADES, giveSocket, responseForUpgrade } from './internals';
import { describeValue } from './describe-value';

/** What a service needs to take over an upgrade request that reached it. */
export interface UpgradeContext {
  readonly socket: Duplex;
  readonly head: Buffer;
  /** True once a service took the request; no other listener may touch the socket. */
  readonly claimed: boolean;
  /** Called by the service that takes the request. */
  claim(): void;
  /**
   * Called by a route that answers over plain HTTP (a poll or a stream sent with upgrade
   * headers): the response is tied to the socket at once, so the client's close is noticed
   * even before anything is written.
   */
  answerOverHttp(): void;
}

const ATTACHED = Symbol('sockjs.attachUpgrade');

/** Upgrades an application never answers are dropped after this long, unless told otherwise. */
const DEFAULT_UPGRADE_TIMEOUT_MS = 30_000;

/** Options of `attachUpgrade()`. */
export interface AttachUpgradeOptions {
  /**
   * Milliseconds the application may take to answer an upgrade request or hand it to a
   * service; past that, the socket gets 503 (or, when other `'upgrade'` listeners exist,
   * is left to them) and is closed.
   * @default 30000
   */
  upgradeTimeout?: number;
}

/**
 * Upgrade requests in flight, by request. Kept apart rather than on the request: every
 * HTTP request asks, and under Express a property missing from a request is looked up
 * the slow way each time (every request has a hidden class of its own).
 */
const UPGRADES = new WeakMap<IncomingMessage, UpgradeContext>();

/** The upgrade context when `req` came through attachUpgrade(); else undefined. */
export function upgradeContext(req: IncomingMessage): UpgradeContext | undefined {
  return UPGRADES.get(req);
}

function ignoreSocketError(): void {
  // A client that resets during the handshake is not a server fault; the socket is
  // destroyed by Node, and whoever owns it next sees its own errors.
}

/**
 * Adds one `'upgrade'` listener to an http or https server that sends WebSocket upgrade
 * requests through the server's own request handler (the Express app): routing finds the
 * SockJS service, and every middleware before it (auth, sessions, logging) runs for
 * WebSockets too. A middleware that answers (401, 403, ...) rejects the upgrade with that
 * response. Calling it again on one server only sets a new `upgradeTimeout`, if given.
 */
export function attachUpgrade(server: HttpServer | HttpsServer, options: AttachUpgradeOptions = {}): void {
  if (!RESPONSES_FOR_UPGRADES) {
    throw new Error('sockjs: this Node.js has no ServerResponse.assignSocket(); attachUpgrade() needs it');
  }
  // The type says server, but JavaScript (or `any`) lets anything in: an app is the usual slip.
  const given: unknown = server;
  if (!(given instanceof HttpServer) && !(given instanceof HttpsServer)) {
    throw new TypeError(
      `sockjs: attachUpgrade needs the http.Server that app.listen() returns, got ${describeHandler(server)}; ` +
        'write attachUpgrade(app.listen(8080))',
    );
  }
  const timeout = upgradeTimeout(options);
  const marked = server as (HttpServer | HttpsServer) & { [ATTACHED]?: { timeout: number } };
  const attached = marked[ATTACHED];
  if (attached !== undefined) {
    if (options.upgradeTimeout !== undefined) attached.timeout = timeout;
    return;
  }
  const settings = { timeout };
  Object.defineProperty(marked, ATTACHED, { value: settings });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    dispatchUpgrade(server, req, socket, head, settings.timeout);
  });
}

/**
 * What was given where a server belongs. An app or a router is the likely mistake: they are
 * functions that look like servers (Express apps even have `on`), and never see an upgrade.
 */
function describeHandler(value: unknown): string {
  if (typeof value !== 'function') return describeValue(value);
  const has = (name: string): boolean =>
    typeof (value as unknown as Record<string, unknown>)[name] === 'function';
  if (has('listen') && has('set') && has('handle')) return 'an Express application';
  if (has('listen') && has('use') && has('handle')) return 'a Connect application';
  if (has('use') && has('handle')) return 'a router';
  return describeValue(value);
}

function upgradeTimeout(options: AttachUpgradeOptions): number {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`sockjs: attachUpgrade() options must be an object, got ${describeValue(options)}`);
  }
  const value = options.upgradeTimeout;
  if (value === undefined) return DEFAULT_UPGRADE_TIMEOUT_MS;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TypeError(
      `sockjs: option upgradeTimeout must be a positive integer, got ${describeValue(value)}`,
    );
  }
  return value;
}

function dispatchUpgrade(
  server: HttpServer | HttpsServer,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  timeoutMs: number,
): void {
  // Other upgrade listeners (another ws server, a dev server's hot reload) own the
  // requests no SockJS service claims; then an unrouted request is left to them.
  const shared = server.listenerCount('upgrade') > 1;
  if (server.listenerCount('request') === 0) {
    socket.on('error', ignoreSocketError);
    if (!shared) rejectRaw(socket, 404);
    return;
  }
  runUpgrade(req, socket, head, shared, (res) => server.emit('request', req, res), timeoutMs);
}

/**
 * Runs an upgrade request through an HTTP request handler with a real ServerResponse.
 * A service on the way claims the socket (upgradeContext); anything else the handler
 * answers is written to the socket, which is then closed, unless `shared` and nobody
 * routed it (404): then the socket is left untouched for the other upgrade listeners.
 */
export function runUpgrade(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  shared: boolean,
  handle: (res: ServerResponse) => void,
  timeoutMs = DEFAULT_UPGRADE_TIMEOUT_MS,
): void {
  socket.on('error', ignoreSocketError);
  let timer: NodeJS.Timeout | null = null;
  const context: UpgradeContext = {
    socket,
    head,
    claimed: false,
    claim() {
      (this as { claimed: boolean }).claimed = true;
      // The dispatch timeout would otherwise keep the request alive after the handshake.
      if (timer !== null) clearTimeout(timer);
    },
    answerOverHttp() {
      (this as { claimed: boolean }).claimed = true;
      decide();
    },
  };
  UPGRADES.set(req, context);

  // The response is not tied to the socket until we know who owns the socket: its output
  // waits in the response until giveSocket().
  const res = responseForUpgrade(req);
  // Settled: the answer went to the socket, or the socket was given up on.
  let settled = false;
  timer = setTimeout(() => {
    if (settled || context.claimed) return;
    settled = true;
    if (!shared) rejectRaw(socket, 503);
    // Shared with other listeners: one that took the socket has written to it by now.
    else if ((socket as Socket).bytesWritten === 0) rejectRaw(socket, 404);
  }, timeoutMs);
  timer.unref();

  // The first output decides. An answer nobody chose (the app's final 404) is not ours to
  // send when another listener may own the URL: the timer answers it if no listener takes
  // the socket. Any other answer is the application's decision, and goes out now, streamed
  // if it streams.
  const decide = (): void => {
    if (settled || (shared && !context.claimed && res.statusCode === 404)) return;
    settled = true;
    if (timer !== null) clearTimeout(timer);
    if (socket.destroyed) return;
    // The HTTP parser no longer reads this socket: read (and drop) what the client sends,
    // so that its close is noticed, and close the socket once the answer is out.
    socket.resume();
    // As Node's HTTP server does: a client that ends its side has gone away.
    socket.once('end', () => closeWhenFlushed(socket));
    res.once('finish', () => closeWhenFlushed(socket));
    giveSocket(res, socket);
  };
  for (const method of ['write', 'end', 'flushHeaders'] as const) {
    const original = res[method] as (...args: unknown[]) => unknown;
    (res as unknown as Record<string, unknown>)[method] = function decideFirst(
      this: ServerResponse,
      ...args: unknown[]
    ) {
      decide();
      return original.apply(this, args);
    };
  }

  handle(res);
}

/** Ends a socket and destroys it once the end is flushed, whatever the peer does. */
function closeWhenFlushed(socket: Duplex): void {
  if (socket.destroyed) return;
  socket.once('finish', () => socket.destroy());
  socket.end();
}

/** A complete HTTP answer written straight to a socket that has no response object. */
export function rejectRaw(socket: Duplex, status: number): void {
  if (socket.destroyed) return;
  const reason = STATUS_CODES[status] ?? 'Error';
  socket.resume();
  socket.write(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain; charset=UTF-8\r\n` +
      `Content-Length: ${Buffer.byteLength(reason)}\r\n\r\n${reason}`,
  );
  closeWhenFlushed(socket);
}
