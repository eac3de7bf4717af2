import type { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NormalizedOptions } from './options';
import type { Connection } from './session/connection';
import { Session, type SessionHost } from './session/session';
import { SessionStore } from './session/store';
import { TrafficCounters } from './session/traffic';
import type { ConnectionProtocol } from './transports/receiver';
import { ReadyState } from './session/ready-state';
import type { Receiver } from './transports/receiver';
import { jsessionidCookie, setJsessionid } from './http/cookie';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { SessionRequest } from './transports/context';
import { WebsocketReceiver } from './transports/websocket';
import { upgradeContext } from './upgrade';
import { sendText } from './http/respond';
import { StallWatch } from './http/body';
import { SessionClock } from './session/clock';
import { IndexedSet } from './session/indexed-set';
import type { ResponseFormat } from './transports/response-receiver';

/** What `stats()` reports for one service. */
export interface ServiceStats {
  /** Open connections (sessions the application holds). */
  readonly connections: number;
  /** Open connections by the transport that opened them. */
  readonly connectionsByProtocol: Readonly<Partial<Record<ConnectionProtocol, number>>>;
  /** Application messages received from clients, and their UTF-8 bytes. */
  readonly messagesIn: number;
  readonly bytesIn: number;
  /** Application messages written to clients, and their UTF-8 bytes. */
  readonly messagesOut: number;
  readonly bytesOut: number;
}

/**
 * Serves the requests of sessions that another process holds: with it, a plain round-robin
 * balancer works (sockjs-express/redis forwards them through Redis). Consulted only for
 * session ids this service does not hold.
 * @internal
 */
export interface SessionRelay {
  /**
   * A receiving request for a session not held here. `here()` serves it as usual, which
   * opens a new session in this process.
   */
  receive(
    request: SessionRequest,
    format: ResponseFormat,
    streaming: boolean,
    callback: string,
    here: () => void,
  ): void;
  /**
   * The decoded messages of a send request for a session not held here: `answer()` once
   * the session's process has them, `notFound()` (404) when no process holds the session.
   */
  send(request: SessionRequest, messages: readonly string[], answer: () => void, notFound: () => void): void;
  /** A session of this service is forgotten: its id is free again. */
  forgotten(session: Session): void;
}

/**
 * The engine of one SockJS service: its options, its sessions, and the emitter the
 * application listens on. Transports and the router call into it; it holds no request.
 */
export class SockjsService implements SessionHost {
  readonly sessions = new SessionStore();
  readonly traffic = new TrafficCounters();
  readonly bodyWatch: StallWatch;
  readonly clock: SessionClock;
  readonly heartbeatDelay: number;
  readonly disconnectDelay: number;
  readonly maxQueuedBytes: number;
  readonly highWaterMark: number;
  /** Set by close(): resolves when every session is gone. */
  private closing: Promise<void> | null = null;
  private wss: WebSocketServer | null = null;
  /** Headers the 101 answer must carry, by request (JSESSIONID, cookies set by middleware). */
  private readonly handshakeHeaders = new WeakMap<IncomingMessage, string[]>();
  private readonly websockets = new IndexedSet<WebsocketReceiver>();
  private sweepTimer: NodeJS.Timeout | null = null;
  /** @internal Set by sockjs-express/redis to serve sessions held by other processes. */
  relay: SessionRelay | null = null;

  constructor(
    readonly options: NormalizedOptions,
    /** Emits `connection` (the Router users hold). */
    private readonly emitter: EventEmitter,
  ) {
    this.heartbeatDelay = options.heartbeatDelay;
    this.disconnectDelay = options.disconnectDelay;
    this.maxQueuedBytes = options.maxQueuedBytes;
    this.highWaterMark = options.highWaterMark;
    this.bodyWatch = new StallWatch(options.bodyTimeout);
    this.clock = new SessionClock(options.heartbeatDelay, options.disconnectDelay);
  }

  /**
   * Graceful shutdown: new sessions get 503; every open session gets 1001 "Server shutting
   * down" after what is queued for it; responses and websockets end; timers stop. Resolves
   * once every websocket has closed (or was cut after `graceMs`).
   */
  close(graceMs = 2000): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.closing = new Promise<void>((resolve) => {
      for (const session of [...this.sessions.values()]) session.shutdown(1001, 'Server shutting down');
      for (const receiver of this.websockets.toArray())
        receiver.session?.shutdown(1001, 'Server shutting down');
      const done = (): void => {
        clearTimeout(grace);
        this.clock.stop();
        if (this.sweepTimer !== null) clearInterval(this.sweepTimer);
        this.sweepTimer = null;
        this.wss?.close();
        resolve();
      };
      const grace = setTimeout(() => {
        for (const receiver of this.websockets.toArray()) receiver.destroy();
        this.websockets.clear();
        done();
      }, graceMs);
      grace.unref();
      if (this.websockets.size === 0) done();
      else this.allWebsocketsGone = done;
    });
    return this.closing;
  }

  private allWebsocketsGone: (() => void) | null = null;
  /** Sessions not closed yet (closed ones may linger in the store to answer with their close frame). */
  private openSessions = 0;

  /** @internal */
  sessionClosed(): void {
    this.openSessions--;
  }

  /**
   * The session a receiving request is for, created if new. Null, after answering 503, when
   * the service is closing or `maxSessions` sessions are open.
   */
  sessionFor(request: SessionRequest): Session | null {
    const existing = this.sessions.get(request.sessionId);
    if (existing !== undefined) return existing;
    if (!this.admitSession(request.res)) return null;
    const session = new Session(request.sessionId, this, request.prefix);
    this.sessions.add(session as Session & { id: string });
    this.openSessions++;
    return session;
  }

  /** Whether a new session may open; answers 503 when not. */
  private admitSession(res: ServerResponse): boolean {
    if (this.closing !== null) {
      sendText(res, 503, 'Server shutting down.', { 'Retry-After': '5' });
      return false;
    }
    if (this.openSessions >= this.options.maxSessions) {
      this.log('info', `session refused: ${this.options.maxSessions} sessions open (maxSessions)`);
      sendText(res, 503, 'Too many sessions.', { 'Retry-After': '5' });
      return false;
    }
    return true;
  }

  /** A websocket session: its own session, in no store, alive as long as its socket. */
  receiveAlone(prefix: string, receiver: Receiver): Session {
    const session = new Session(null, this, prefix);
    this.openSessions++;
    session.attach(receiver);
    return session;
  }

  /**
   * Takes over a websocket request that came through attachUpgrade(); false when it is a
   * plain HTTP request (the caller answers 400).
   */
  upgrade(request: SessionRequest, raw: boolean): boolean {
    const context = upgradeContext(request.req);
    if (context === undefined) return false;
    context.claim();
    const { req, res } = request;
    if (!this.admitSession(res)) return true;
    if (req.headers['sec-websocket-version'] !== '13') {
      sendText(res, 400, 'Only RFC 6455 WebSockets (version 13) are supported.', {
        'Sec-WebSocket-Version': '13',
      });
      return true;
    }
    this.setCookie(req, res);
    const cookies = res.getHeader('set-cookie');
    const extra =
      cookies === undefined
        ? null
        : (Array.isArray(cookies) ? cookies : [String(cookies)]).map((c) => 'Set-Cookie: ' + c);
    this.handshake(req, context.socket, context.head, raw, request.prefix, extra);
    return true;
  }

  /**
   * The websocket handshake without any HTTP response object, for upgrades no app sits in
   * front of (the sockjs-node compatible API). False when the request needs an HTTP answer
   * or a `(req, res)` cookie function: the caller takes the general path then.
   */
  upgradeDirectly(req: IncomingMessage, socket: Duplex, head: Buffer, raw: boolean, prefix: string): boolean {
    const cookieRule = this.options.jsessionid;
    if (
      this.closing !== null ||
      this.openSessions >= this.options.maxSessions ||
      req.headers['sec-websocket-version'] !== '13' ||
      typeof cookieRule === 'function'
    ) {
      return false;
    }
    const extra = cookieRule === false ? null : ['Set-Cookie: ' + jsessionidCookie(cookieRule, req)];
    this.handshake(req, socket, head, raw, prefix, extra);
    return true;
  }

  private handshake(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    raw: boolean,
    prefix: string,
    extraHeaders: string[] | null,
  ): void {
    if (extraHeaders !== null) this.handshakeHeaders.set(req, extraHeaders);
    // ws completes a handshake synchronously: the 101 and the open frame leave in one write.
    socket.cork();
    try {
      this.websocketServer().handleUpgrade(req, socket, head, (ws) =>
        this.websocketOpened(ws, req, raw, prefix),
      );
    } finally {
      socket.uncork();
    }
  }

  private websocketServer(): WebSocketServer {
    if (this.wss === null) {
      this.wss = new WebSocketServer({
        ...this.options.websocketOptions,
        noServer: true,
        clientTracking: false,
      });
      this.wss.on('headers', (headers: string[], req: IncomingMessage) => {
        const extra = this.handshakeHeaders.get(req);
        if (extra !== undefined) headers.push(...extra);
      });
    }
    return this.wss;
  }

  private websocketOpened(ws: WebSocket, req: IncomingMessage, raw: boolean, prefix: string): void {
    const receiver = new WebsocketReceiver(req, ws, raw, this);
    this.websockets.add(receiver);
    if (this.sweepTimer === null) {
      this.sweepTimer = setInterval(
        sweepDeadPeers,
        this.heartbeatDelay / 2,
        this.websockets,
        this.heartbeatDelay,
      );
      this.sweepTimer.unref();
    }
    receiver.session = this.receiveAlone(prefix, receiver);
    receiver.req = null;
  }

  /** @internal A websocket receiver is over. */
  websocketGone(receiver: WebsocketReceiver): void {
    this.websockets.delete(receiver);
    if (this.websockets.size === 0) {
      if (this.sweepTimer !== null) clearInterval(this.sweepTimer);
      this.sweepTimer = null;
      const gone = this.allWebsocketsGone;
      this.allWebsocketsGone = null;
      if (gone !== null) gone();
    }
  }

  /** A snapshot of open connections and message totals (see ServiceStats). */
  stats(): ServiceStats {
    const open: Partial<Record<ConnectionProtocol, number>> = {};
    let total = 0;
    const count = (session: Session | null): void => {
      if (session === null || session.readyState !== ReadyState.OPEN) return;
      const protocol = session.connection.protocol;
      if (protocol === '') return;
      open[protocol] = (open[protocol] ?? 0) + 1;
      total++;
    };
    for (const session of this.sessions.values()) count(session);
    this.websockets.forEach((receiver) => count(receiver.session));
    const { messagesIn, bytesIn, messagesOut, bytesOut } = this.traffic;
    return { connections: total, connectionsByProtocol: open, messagesIn, bytesIn, messagesOut, bytesOut };
  }

  /** Sets the JSESSIONID cookie when the option asks for it. */
  setCookie(req: IncomingMessage, res: ServerResponse): void {
    if (this.options.jsessionid !== false) setJsessionid(this.options, req, res);
  }

  log(severity: 'debug' | 'info' | 'error', message: string): void {
    this.options.log(severity, message);
  }

  connectionOpened(connection: Connection): void {
    this.emitter.emit('connection', connection);
  }

  sessionForgotten(session: Session): void {
    this.sessions.delete(session);
    if (this.relay !== null && session.id !== null) this.relay.forgotten(session);
  }
}

/**
 * Dead-peer detection for every websocket of a service with one timer: a socket that has
 * not answered a ping for `heartbeatDelay` is terminated. Idle sockets are pinged with
 * their heartbeats (see WebsocketReceiver.sendHeartbeat); the sweep pings the others, those
 * busy enough never to need a heartbeat, and raw websockets, which have none.
 */
function sweepDeadPeers(receivers: IndexedSet<WebsocketReceiver>, heartbeatDelay: number): void {
  const now = Date.now();
  // Past a heartbeat period and its clock's lateness (a quarter period at most): a socket
  // whose heartbeats ping it is never pinged twice.
  const pingAfter = heartbeatDelay * 1.5;
  receivers.forEach((receiver) => {
    if (receiver.pingedAt !== 0) {
      if (now - receiver.pingedAt >= heartbeatDelay) receiver.terminate();
    } else if (now - receiver.lastPingAt >= pingAfter) {
      receiver.ping(now);
    }
  });
}
