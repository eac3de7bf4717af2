import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { SockjsService } from './service';
import { sendMethodNotAllowed, sendPreflight, sendText } from './http/respond';
import { OriginGate } from './http/origin';
import { expressProxyTrust, releaseRouting, type ProxyTrust } from './internals';
import { hasUnframedBody } from './http/transfer-encoding';
import { upgradeContext } from './upgrade';
import { greeting, iframe, iframeResource, info, notAnUpgrade, type IframeResource } from './static-routes';
import { SESSION_ROUTES, type SessionRoute } from './transports/table';

/** `<server>` and `<session>`: non-empty, no `/`, no `.` */
const SESSION_PATH = /^\/([^/.]+)\/([^/.]+)\/([a-z_]+)$/;
const IFRAME_PATH = /^\/iframe[0-9a-z._-]*\.html$/;

/** `BASE/websocket` is raw, `BASE/<server>/<session>/websocket` framed; anything else null. */
function websocketKind(pathname: string): 'raw' | 'framed' | null {
  if (pathname === '/websocket') return 'raw';
  // The suffix first: most session URLs are not websockets, and test() builds no match.
  return pathname.endsWith('/websocket') && SESSION_PATH.test(pathname) ? 'framed' : null;
}

/**
 * Answers every request under one service's base URL: our own small route table, so the
 * same code serves an Express mount and a plain `http.Server`.
 */
export class RouteTable {
  private readonly sessionRoutes: ReadonlyMap<string, SessionRoute>;
  private readonly iframe: IframeResource;
  private readonly origins: OriginGate;
  /** The `trust proxy` rule of the app the service was last reached through. */
  private proxyTrust: ProxyTrust | null = null;
  /** Whether the log has heard that WebSocket upgrades reach the service without attachUpgrade(). */
  private saidUpgradesNeedAttaching = false;

  constructor(private readonly service: SockjsService) {
    const log = service.options.log;
    this.origins = new OriginGate(service.options.origins, (message) => log('info', message));
    const enabled = service.options.transports;
    const routes = new Map<string, SessionRoute>();
    for (const [name, route] of Object.entries(SESSION_ROUTES)) {
      if (route.neededBy.some((transport) => enabled.has(transport))) routes.set(name, route);
    }
    this.sessionRoutes = routes;
    this.iframe = iframeResource(service.options.sockjsUrl);
  }

  /**
   * @param path the URL path below the base URL, with its query string
   * @param prefix the base URL itself
   * @returns false when the path is none of ours (the caller decides: 404 or next())
   */
  handle(req: IncomingMessage, res: ServerResponse, path: string, prefix: string): boolean {
    const queryStart = path.indexOf('?');
    const pathname = queryStart === -1 ? path : path.slice(0, queryStart);
    const method = req.method ?? 'GET';
    const service = this.service;

    if (hasUnframedBody(req)) {
      // Written in full before Node destroys the socket on the parse error that follows.
      sendText(res, 400, 'Invalid Transfer-Encoding.', { Connection: 'close' });
      return true;
    }
    if (pathname === '/' || pathname === '') {
      if (method === 'GET' || method === 'HEAD') greeting(res);
      else sendMethodNotAllowed(res, 'GET');
      return true;
    }
    if (this.origins.restricted && !this.origins.admits(req, this.trustOf)) {
      if (!this.isOurs(pathname)) return false;
      sendText(res, 403, 'Origin not allowed.');
      return true;
    }
    if (pathname === '/info') {
      if (method === 'GET' || method === 'HEAD') info(service.options, req, res);
      else if (method === 'OPTIONS') sendPreflight(req, res, 'OPTIONS, GET', !service.options.disableCors);
      else sendMethodNotAllowed(res, 'OPTIONS, GET');
      return true;
    }
    if (IFRAME_PATH.test(pathname)) {
      // The frame that runs the iframe transports for whichever page frames it.
      if (this.origins.refusesAnonymous(req)) sendText(res, 403, 'Origin not allowed.');
      else if (method === 'GET' || method === 'HEAD') iframe(this.iframe, req, res, this.origins.ownOnly);
      else sendMethodNotAllowed(res, 'GET');
      return true;
    }
    const query = queryStart === -1 ? '' : path.slice(queryStart + 1);
    const websocket = websocketKind(pathname);
    if (websocket !== null) {
      if (!service.options.transports.has('websocket')) return false;
      // A websocket lives on long after routing: what the app's routing keeps of it goes now.
      releaseRouting(req);
      // Each websocket is its own session: the id in a framed URL names nothing.
      if (method !== 'GET') sendMethodNotAllowed(res, 'GET');
      else if (!service.websockets.upgrade(req, res, websocket === 'raw', prefix) && notAnUpgrade(req, res))
        this.sayUpgradesNeedAttaching(prefix);
      return true;
    }
    const match = SESSION_PATH.exec(pathname);
    if (match === null) return false;
    const route = this.sessionRoutes.get(match[3]);
    if (route === undefined) return false;
    const handler = route.methods[method];
    if (handler === undefined) {
      sendMethodNotAllowed(res, route.allow);
      return true;
    }
    if (route.needsOrigin && this.origins.refusesAnonymous(req)) {
      sendText(res, 403, 'Origin not allowed.');
      return true;
    }
    upgradeContext(req)?.answerOverHttp();
    handler({ req, res, sessionId: match[2], query, prefix }, service.transports);
    return true;
  }

  /**
   * A websocket upgrade with no app in front (sockjs-node compatible API): handed straight
   * to the handshake when nothing needs an HTTP answer; false sends the caller down the
   * general path (runUpgrade), which answers everything else.
   */
  upgradeDirectly(req: IncomingMessage, socket: Duplex, head: Buffer, path: string, prefix: string): boolean {
    const service = this.service;
    if (req.method !== 'GET' || !service.options.transports.has('websocket')) return false;
    const queryStart = path.indexOf('?');
    const websocket = websocketKind(queryStart === -1 ? path : path.slice(0, queryStart));
    if (websocket === null) return false;
    if (this.origins.restricted && !this.origins.admits(req, this.trustOf)) return false;
    return service.websockets.upgradeDirectly(req, socket, head, websocket === 'raw', prefix);
  }

  /**
   * Whether the service holds this session and opened it at `base`, written the same way:
   * the app's router sent that spelling here, and might not send another; and, with
   * `bindSessionToAddress`, whether `req` comes from the session's address. The fast path
   * serves only these: any other request goes through the app, as for an unknown session.
   */
  holdsFor(req: IncomingMessage, sessionId: string, base: string): boolean {
    const session = this.service.sessions.here(sessionId);
    if (session === undefined || session.connection.prefix !== base) return false;
    const addresses = this.service.addresses;
    return addresses === null || addresses.admits(session, req);
  }

  /**
   * Once per service: a WebSocket that can never open is easy to miss, since clients fall
   * back to other transports without a word.
   */
  private sayUpgradesNeedAttaching(base: string): void {
    if (this.saidUpgradesNeedAttaching) return;
    this.saidUpgradesNeedAttaching = true;
    this.service.options.log(
      'error',
      `a WebSocket upgrade for the service at ${base === '' ? '/' : base} came in as a plain ` +
        'HTTP request and got 400: call attachUpgrade(server) on the HTTP server the app listens ' +
        'on. Until then clients fall back to other transports. (Said once per service.)',
    );
  }

  /**
   * The app's `trust proxy` rule for a request; requests that reach the service before the
   * app (the fast path) are judged by the rule of the app the service was reached through.
   */
  private readonly trustOf = (req: IncomingMessage): ProxyTrust | null => {
    const trust = expressProxyTrust(req);
    if (trust !== null) this.proxyTrust = trust;
    return trust ?? this.proxyTrust;
  };

  /** Whether a path is one this service answers (for refusing it without saying more). */
  private isOurs(pathname: string): boolean {
    if (pathname === '/info' || IFRAME_PATH.test(pathname) || websocketKind(pathname) !== null) return true;
    const match = SESSION_PATH.exec(pathname);
    return match !== null && this.sessionRoutes.has(match[3]);
  }
}
