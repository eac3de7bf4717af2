import type { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { NormalizedOptions } from './options';
import { SockjsService } from './service';
import { RouteTable } from './routes';
import { sendNotFound } from './http/respond';

/**
 * The one way from a request to a service, for every way of mounting one: the Express
 * router, the compatible server's installations and its middleware(), and the fast path.
 */
export class FrontDoor {
  readonly service: SockjsService;
  private readonly routes: RouteTable;

  constructor(options: NormalizedOptions, emitter: EventEmitter) {
    this.service = new SockjsService(options, emitter);
    this.routes = new RouteTable(this.service);
  }

  /**
   * Serves a request under the service's base URL. A path that is none of the service's
   * goes to `next` when given (the rest of an app may answer it), else gets 404.
   * @param path the URL below `base`, with its query string
   * @returns whether the service answered it
   */
  serve(req: IncomingMessage, res: ServerResponse, path: string, base: string, next?: () => void): boolean {
    if (this.routes.handle(req, res, path, base)) return true;
    if (next !== undefined) next();
    else sendNotFound(res);
    return false;
  }

  /**
   * Serves a follow-up request of a session this process holds, at the base URL the session
   * was opened at (and from its address, when bound); false (untouched) for any other, which
   * then goes through the app.
   */
  serveHeldSession(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    base: string,
    sessionId: string,
  ): boolean {
    return this.routes.holdsFor(req, sessionId, base) && this.routes.handle(req, res, path, base);
  }

  /** A websocket upgrade straight to the handshake, when nothing needs an HTTP answer. */
  upgradeDirectly(req: IncomingMessage, socket: Duplex, head: Buffer, path: string, base: string): boolean {
    return this.routes.upgradeDirectly(req, socket, head, path, base);
  }
}
