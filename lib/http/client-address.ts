import type { IncomingMessage } from 'node:http';

/**
 * The part of an Express application (`req.app`) that says how it reads a client's address:
 * `app.request`, the prototype Express gives the app's requests, where `req.ip` is defined
 * (from the `trust proxy` setting, or by the application itself, as Express's guide to
 * overriding its API shows).
 */
export interface AddressingApp {
  readonly request: object;
}

/** The Express application a request went through, if any. */
export function appOf(req: IncomingMessage): AddressingApp | null {
  const app = (req as { app?: unknown }).app;
  if (typeof app !== 'function' && (typeof app !== 'object' || app === null)) return null;
  const request = (app as { request?: unknown }).request;
  return typeof request === 'object' && request !== null ? (app as AddressingApp) : null;
}

/**
 * The client address of a request as `app` reads it. A request through Express has its
 * `req.ip`, with the app's `trust proxy` setting applied to X-Forwarded-For. One the app has
 * not seen (the fast path runs before it) gets the same answer from the app's own `ip`,
 * read over the request's headers and socket. Without an app: the socket's peer address.
 * Undefined when it cannot be told (the socket is gone).
 */
export function clientAddress(req: IncomingMessage, app: AddressingApp | null): string | undefined {
  const routed = (req as { ip?: unknown }).ip;
  if (typeof routed === 'string') return routed;
  if (app === null) return req.socket.remoteAddress;
  return addressAsAppReadsIt(app, req);
}

/**
 * `req.ip` of a request Express has not routed: read on a view whose prototype is
 * `app.request`, as Express's router would make the request's own, so the request itself is
 * left as it is.
 */
function addressAsAppReadsIt(app: AddressingApp, req: IncomingMessage): string | undefined {
  const view = Object.create(app.request, {
    headers: { value: req.headers },
    socket: { value: req.socket },
    url: { value: req.url },
    method: { value: req.method },
  }) as { ip?: unknown };
  try {
    const ip = view.ip;
    return typeof ip === 'string' ? ip : undefined;
  } catch {
    // An `ip` of the application's that needs more of the request than the view has. No
    // address matches none: the caller sends the request through the app, which reads
    // `req.ip` on the request itself.
    return undefined;
  }
}
