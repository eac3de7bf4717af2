import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Router, type NextFunction } from 'express';
import { normalizeOptions, type SockjsOptions } from './options';
import type { SockjsService, ServiceStats } from './service';
import { FrontDoor } from './front-door';
import { FastPathSessions } from './fast-path';
import { directRouter } from './internals';
import { mountPath, pathBelow } from './http/mount';
import type { Connection } from './session/connection';
import { attachUpgrade, type AttachUpgradeOptions } from './upgrade';
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';

/** Where a router keeps its service, for attachUpgrade and tests. */
export const SERVICE = Symbol('sockjs.service');

/**
 * An Express Router serving one SockJS service; also an EventEmitter that emits
 * `connection` for every new client.
 */
export interface SockjsRouter extends Router {
  /**
   * Connect-style middleware: Connect (and any router that sets `req.originalUrl` and
   * strips the mount from `req.url`) passes plain Node requests, not Express's.
   */
  (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void;
  on(event: 'connection', listener: (connection: Connection) => void): this;
  once(event: 'connection', listener: (connection: Connection) => void): this;
  off(event: 'connection', listener: (connection: Connection) => void): this;
  addListener(event: 'connection', listener: (connection: Connection) => void): this;
  removeListener(event: 'connection', listener: (connection: Connection) => void): this;
  removeAllListeners(event?: 'connection'): this;
  listenerCount(event: 'connection'): number;
  emit(event: 'connection', connection: Connection): boolean;
  /** Open connections by transport, and message and byte totals since the service started. */
  stats(): ServiceStats;
  /**
   * Graceful shutdown: new sessions get 503, open ones get 1001 "Server shutting down"
   * after what is queued for them; resolves once every connection and timer is gone.
   * Websockets that have not finished their close handshake after `graceMs` (default
   * 2000) are cut.
   */
  close(graceMs?: number): Promise<void>;
  /** Same as `attachUpgrade(server, options)`: WebSocket upgrades for every service on the server. */
  attachUpgrade(server: HttpServer | HttpsServer, options?: AttachUpgradeOptions): void;
  /** @internal */
  readonly [SERVICE]: SockjsService;
}

/** Gives a function object the EventEmitter methods, the way Express does for `app`. */
function mixinEventEmitter(target: object): void {
  for (const name of Object.getOwnPropertyNames(EventEmitter.prototype)) {
    if (name === 'constructor') continue;
    const descriptor = Object.getOwnPropertyDescriptor(EventEmitter.prototype, name);
    if (descriptor !== undefined) Object.defineProperty(target, name, descriptor);
  }
  EventEmitter.call(target as EventEmitter);
}

/**
 * Creates a SockJS service to mount anywhere in an Express app:
 * `app.use('/echo', sockjsMiddleware(options))`. The base URL is learned from each
 * request, so it works at the root, under a prefix and under nested routers.
 */
export function sockjsMiddleware(options?: SockjsOptions): SockjsRouter {
  const normalized = normalizeOptions(options);
  const handler = function sockjsHandler(
    req: IncomingMessage,
    res: ServerResponse,
    next: NextFunction,
  ): void {
    const prefix = mountPath(req);
    // Under its own prefix every path is the service's; mounted at the root, it lets the
    // rest of the app answer what is not SockJS.
    const path = pathBelow(req, prefix);
    door.serve(req, res, path, prefix, prefix === '' ? next : undefined);
  };
  const inner = Router();
  inner.use(handler);
  const router = directRouter(inner as unknown as SockjsRouter, handler);
  mixinEventEmitter(router);
  const door = new FrontDoor(normalized, router as unknown as EventEmitter);
  const service = door.service;
  Object.defineProperty(router, SERVICE, { value: service });
  Object.defineProperty(router, 'attachUpgrade', { value: attachUpgrade });
  Object.defineProperty(router, 'stats', { value: () => service.stats() });
  Object.defineProperty(router, 'close', { value: (graceMs?: number) => service.close(graceMs) });
  if (normalized.fastPath) service.registry.watch(new FastPathSessions(door, normalized.log));
  return router;
}
