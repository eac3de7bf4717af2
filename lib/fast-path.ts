import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FrontDoor } from './front-door';
import { interceptRequests, type AnyServer } from './server-hook';
import { serverOf } from './internals';

const FAST_PATHS = Symbol('sockjs.fastPaths');
type FastServer = AnyServer & { [FAST_PATHS]?: Map<string, FrontDoor> };

/**
 * The `fastPath` option: once a service has answered a request through the app, its
 * base URL is known, and the server hands it the follow-up requests of its existing
 * sessions (sends and polls) before the app. The session id in the URL is an unguessable
 * capability, and the request that opened the session went through every middleware.
 * Origins and limits still apply: the route table is the same. Where the server of a
 * request cannot be told (lib/internals.ts), every request goes through the app.
 */
export function registerFastPath(req: IncomingMessage, base: string, door: FrontDoor): void {
  const server = serverOf(req) as FastServer | null;
  if (server === null || typeof (server as Partial<AnyServer>).listen !== 'function') return;
  let bases = server[FAST_PATHS];
  if (bases === undefined) {
    const created = new Map<string, FrontDoor>();
    bases = created;
    Object.defineProperty(server, FAST_PATHS, { value: created });
    interceptRequests(server, (request, res) => serveFast(created, request, res));
  }
  if (!bases.has(base)) bases.set(base, door);
}

/** `BASE/<server>/<session>/<transport>` for a session the service holds: answered here. */
function serveFast(bases: Map<string, FrontDoor>, req: IncomingMessage, res: ServerResponse): boolean {
  const url = req.url;
  if (url === undefined) return false;
  const queryStart = url.indexOf('?');
  const path = queryStart === -1 ? url : url.slice(0, queryStart);
  const transportSlash = path.lastIndexOf('/');
  if (transportSlash <= 0) return false;
  const sessionSlash = path.lastIndexOf('/', transportSlash - 1);
  if (sessionSlash <= 0) return false;
  const serverSlash = path.lastIndexOf('/', sessionSlash - 1);
  if (serverSlash < 0) return false;
  const base = path.slice(0, serverSlash);
  const door = bases.get(base);
  if (door === undefined) return false;
  return door.serveHeldSession(
    req,
    res,
    url.slice(serverSlash),
    base,
    path.slice(sessionSlash + 1, transportSlash),
  );
}
