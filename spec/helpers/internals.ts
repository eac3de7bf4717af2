/**
 * The one place the specs read a service's internals: the sessions a router's service
 * holds (its session registry), and the base URLs an HTTP server serves on the fast path.
 * When lib/ keeps them elsewhere, only this file changes.
 */
import type { Server } from 'node:http';
import { SERVICE, type SockjsRouter } from '../../lib/middleware';
import { FAST_PATHS, type FastPathTable } from '../../lib/fast-path';

/** What the specs look at in a held session. */
export interface HeldSession {
  /** The receiving request (poll, stream, websocket) attached now; null between requests. */
  readonly receiver: unknown;
  /** Closes the session with `code` and `reason`, as the application's `conn.close()` would. */
  close(code: number, reason: string): unknown;
}

/** How many sessions the service of `router` holds (HTTP and websocket, not yet forgotten). */
export function heldSessionCount(router: SockjsRouter): number {
  return router[SERVICE].registry.size;
}

/** The session `sessionId` (the id in its URLs) the service of `router` holds, if any. */
export function heldSession(router: SockjsRouter, sessionId: string): HeldSession | undefined {
  return router[SERVICE].registry.get(sessionId);
}

/** Every session the service of `router` holds now (the same objects on every call). */
export function heldSessions(router: SockjsRouter): HeldSession[] {
  return router[SERVICE].registry.all();
}

/** How many base URLs `server` serves on the fast path now (0 before any). */
export function fastPathBaseCount(server: Server): number {
  return (server as Server & { [FAST_PATHS]?: FastPathTable })[FAST_PATHS]?.size ?? 0;
}
