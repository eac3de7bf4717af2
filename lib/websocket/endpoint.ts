import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { NormalizedOptions, LogSeverity } from '../options';
import type { SessionRegistry } from '../session/registry';
import { IndexedSet } from '../session/indexed-set';
import { jsessionidCookie } from '../http/cookie';
import { sendRefusal, sendText } from '../http/respond';
import { responseLocals } from '../http/locals';
import { upgradeContext } from '../upgrade';
import { WebsocketReceiver, type WebsocketHost } from './receiver';

/** The options the websocket endpoint reads. */
type EndpointOptions = Pick<NormalizedOptions, 'websocketOptions' | 'heartbeatDelay' | 'jsessionid' | 'log'>;

/**
 * The websocket transports of one service: the handshake and its cookie headers, the `ws`
 * server, the websockets open, and the dead-peer sweep over them. Each websocket is a
 * session of its own in the service's registry, forgotten when ws reports its socket closed.
 */
export class WebsocketEndpoint implements WebsocketHost {
  private wss: WebSocketServer | null = null;
  /** Headers the 101 answer must carry, by request (JSESSIONID, cookies set by middleware). */
  private readonly handshakeHeaders = new WeakMap<IncomingMessage, string[]>();
  private readonly websockets = new IndexedSet<WebsocketReceiver>();
  private sweepTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly options: EndpointOptions,
    private readonly registry: SessionRegistry,
    /** Sets the JSESSIONID cookie on a response when the option asks for it. */
    private readonly setCookie: (req: IncomingMessage, res: ServerResponse) => void,
  ) {}

  /**
   * Takes over a websocket request that came through attachUpgrade(), answering it over
   * HTTP where it may not upgrade (503, 400); false when it is a plain HTTP request.
   */
  upgrade(req: IncomingMessage, res: ServerResponse, raw: boolean, prefix: string): boolean {
    const context = upgradeContext(req);
    if (context === undefined) return false;
    context.claim();
    const refusal = this.registry.refusal();
    if (refusal !== null) {
      sendRefusal(res, refusal);
      return true;
    }
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
    this.handshake(req, context.socket, context.head, raw, prefix, extra, responseLocals(res));
    return true;
  }

  /**
   * The handshake without any HTTP response object, for upgrades no app sits in front of
   * (the sockjs-node compatible API). False when the request needs an HTTP answer or a
   * `(req, res)` cookie function: the caller takes the general path then.
   */
  upgradeDirectly(req: IncomingMessage, socket: Duplex, head: Buffer, raw: boolean, prefix: string): boolean {
    const cookieRule = this.options.jsessionid;
    if (
      req.headers['sec-websocket-version'] !== '13' ||
      typeof cookieRule === 'function' ||
      this.registry.refusal(false) !== null
    ) {
      return false;
    }
    const extra = cookieRule === false ? null : ['Set-Cookie: ' + jsessionidCookie(cookieRule, req)];
    this.handshake(req, socket, head, raw, prefix, extra, null);
    return true;
  }

  /** Cuts every websocket still open, close handshake or not (the end of close()'s grace). */
  cutAll(): void {
    for (const receiver of this.websockets.toArray()) receiver.destroy();
  }

  /** Stops the sweep and the ws server (once no websocket is left). */
  stop(): void {
    this.stopSweep();
    this.wss?.close();
  }

  log(severity: LogSeverity, message: string): void {
    this.options.log(severity, message);
  }

  /** @internal ws reported a socket closed: its session is over and forgotten. */
  websocketGone(receiver: WebsocketReceiver): void {
    this.websockets.delete(receiver);
    if (this.websockets.size === 0) this.stopSweep();
    receiver.session?.forget();
  }

  private handshake(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    raw: boolean,
    prefix: string,
    extraHeaders: string[] | null,
    /** `res.locals` of the request, for the connection; null when no app ran. */
    locals: object | null,
  ): void {
    if (extraHeaders !== null) this.handshakeHeaders.set(req, extraHeaders);
    // ws completes a handshake synchronously: the 101 and the open frame leave in one write.
    socket.cork();
    try {
      this.websocketServer().handleUpgrade(req, socket, head, (ws) =>
        this.websocketOpened(ws, req, raw, prefix, locals),
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

  private websocketOpened(
    ws: WebSocket,
    req: IncomingMessage,
    raw: boolean,
    prefix: string,
    locals: object | null,
  ): void {
    const receiver = new WebsocketReceiver(req.socket as Socket | null, ws, raw, this);
    this.websockets.add(receiver);
    if (this.sweepTimer === null) {
      const heartbeatDelay = this.options.heartbeatDelay;
      this.sweepTimer = setInterval(sweepDeadPeers, heartbeatDelay / 2, this.websockets, heartbeatDelay);
      this.sweepTimer.unref();
    }
    const session = this.registry.openForSocket('', prefix);
    receiver.session = session;
    session.attach(receiver, req, locals);
  }

  private stopSweep(): void {
    if (this.sweepTimer !== null) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
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
