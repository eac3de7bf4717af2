import { EventEmitter } from 'node:events';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { normalizeOptions, type NormalizedOptions } from '../options';
import type { SockjsService, ServiceStats } from '../service';
import { FrontDoor } from '../front-door';
import { sendNotFound } from '../http/respond';
import { mountPath, pathBelow } from '../http/mount';
import type { Connection } from '../session/connection';
import { install, uninstall } from './hook';
import {
  ignoredOptionMessage,
  printLine,
  prefixMatcher,
  splitCompatOptions,
  type CompatServerOptions,
  type HandlerOptions,
} from './options';

/** An Express-style handler; `next` may be omitted outside Express. */
export type CompatMiddleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next?: (error?: unknown) => void,
) => void;

/**
 * The sockjs-node Server: `createServer(options)`, then `installHandlers(httpServer,
 * { prefix })` (0.3), `attach(httpServer)` / `detach(httpServer)` (0.4) or `middleware()`.
 * Emits `connection` for every client of every installation.
 */
export class SockjsServer extends EventEmitter {
  readonly options: Readonly<CompatServerOptions>;
  private readonly services: SockjsService[] = [];
  /** The service options of installations without overrides; validated at createServer(). */
  private readonly normalized: CompatNormalized;

  constructor(options: CompatServerOptions = {}) {
    super();
    if (options === null || typeof options !== 'object')
      throw new TypeError('sockjs: options must be an object');
    this.options = Object.freeze({ ...options });
    // Validated now, so a bad option fails at createServer(), as sockjs-node's users expect.
    this.normalized = normalizeCompat(this.options);
    logIgnored(this.normalized, this.normalized.ignored);
  }

  override on(event: 'connection', listener: (connection: Connection) => void): this;
  override on(event: string | symbol, listener: (...args: never[]) => void): this;
  override on(event: string | symbol, listener: (...args: never[]) => void): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }

  /** sockjs-node 0.3: serve the prefix on `server`; `options` overshadow the server's. */
  installHandlers(server: HttpServer | HttpsServer, options: HandlerOptions = {}): true {
    const { prefix, door } = this.createService(options);
    install(server, { match: prefixMatcher(prefix), door }, this);
    return true;
  }

  /** sockjs-node 0.4: serve `options.prefix` on `server`. */
  attach(server: HttpServer | HttpsServer): void {
    this.installHandlers(server);
  }

  /** Stops serving on `server` (open sessions live on until they end). */
  detach(server: HttpServer | HttpsServer): void {
    uninstall(server, this);
  }

  /**
   * An Express-mountable handler (`app.use('/echo', server.middleware())`); the base URL
   * comes from the mount, as with sockjsMiddleware().
   */
  middleware(options: HandlerOptions = {}): CompatMiddleware {
    const { prefix, door } = this.createService(options);
    // A prefix option still applies, below wherever the handler is mounted.
    const match = prefix === '' ? null : prefixMatcher(prefix);
    return function sockjsCompatHandler(req, res, next) {
      let base = mountPath(req);
      let path = pathBelow(req, base);
      if (match !== null) {
        const matched = match(path);
        if (matched === null) {
          if (next !== undefined) next();
          else sendNotFound(res);
          return;
        }
        base += matched;
        path = path.slice(matched.length);
      }
      door.serve(req, res, path, base, base === '' ? next : undefined);
    };
  }

  /** Graceful shutdown of every installation (see SockjsRouter.close()). */
  async close(graceMs?: number): Promise<void> {
    await Promise.all(this.services.map((service) => service.close(graceMs)));
  }

  /** Open connections and message totals over every installation. */
  stats(): ServiceStats {
    const total = {
      connections: 0,
      connectionsByProtocol: {} as Record<string, number>,
      messagesIn: 0,
      bytesIn: 0,
      messagesOut: 0,
      bytesOut: 0,
    };
    for (const service of this.services) {
      const one = service.stats();
      total.connections += one.connections;
      for (const [protocol, count] of Object.entries(one.connectionsByProtocol)) {
        total.connectionsByProtocol[protocol] = (total.connectionsByProtocol[protocol] ?? 0) + (count ?? 0);
      }
      total.messagesIn += one.messagesIn;
      total.bytesIn += one.bytesIn;
      total.messagesOut += one.messagesOut;
      total.bytesOut += one.bytesOut;
    }
    return total;
  }

  private createService(overrides: HandlerOptions): { prefix: string; door: FrontDoor } {
    let chosen = this.normalized;
    if (Object.keys(overrides).length > 0) {
      chosen = normalizeCompat({ ...this.options, ...overrides });
      // The constructor's unknown names were logged when it ran.
      logIgnored(
        chosen,
        chosen.ignored.filter((name) => Object.hasOwn(overrides, name)),
      );
    }
    const { prefix, options } = chosen;
    const door = new FrontDoor(options, this);
    this.services.push(door.service);
    options.log('debug', `SockJS bound to ${JSON.stringify(prefix)}`);
    return { prefix, door };
  }
}

/** Compatible options made ready: the prefix, the service options, the names left out. */
interface CompatNormalized {
  readonly prefix: string;
  readonly options: NormalizedOptions;
  readonly ignored: readonly string[];
}

/** The prefix and the service options of compatible options, with sockjs-node's log default. */
function normalizeCompat(options: CompatServerOptions): CompatNormalized {
  const { prefix, service, ignored } = splitCompatOptions(options);
  // sockjs-node served every origin; so does its API here unless `origins` says otherwise.
  const withOrigins = service.origins === undefined ? { ...service, origins: '*' as const } : service;
  return { prefix, options: normalizeOptions(withOrigins, printLine), ignored };
}

/** An unknown name is a likely typo: said at severity error, so that a filtering log shows it. */
function logIgnored(normalized: CompatNormalized, names: readonly string[]): void {
  for (const name of names) normalized.options.log('error', ignoredOptionMessage(name));
}

/** sockjs-node's `createServer(options)`. */
export function createServer(options?: CompatServerOptions): SockjsServer {
  return new SockjsServer(options);
}

/** sockjs-node's `listen(httpServer, options)`: createServer + installHandlers. */
export function listen(
  server: HttpServer | HttpsServer | null | undefined,
  options?: CompatServerOptions,
): SockjsServer {
  const sockjsServer = createServer(options);
  if (server) sockjsServer.installHandlers(server);
  return sockjsServer;
}
