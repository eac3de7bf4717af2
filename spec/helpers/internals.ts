/**
 * The one place the specs read a service's internals: the sessions a router's service
 * holds (its session registry). When lib/ keeps them elsewhere, only this file changes.
 */
import { SERVICE, type SockjsRouter } from '../../lib/middleware';

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
