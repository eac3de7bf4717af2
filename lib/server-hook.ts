import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';

export type AnyServer = HttpServer | HttpsServer;

/** Returns true when it answered the request itself; no listener then sees it. */
export type RequestInterceptor = (req: IncomingMessage, res: ServerResponse) => boolean;
/** Returns true when it took the upgrade itself; no listener then sees it. */
export type UpgradeInterceptor = (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean;

interface Hook {
  readonly requests: RequestInterceptor[];
  readonly upgrades: UpgradeInterceptor[];
  readonly originalEmit: AnyServer['emit'];
}

const HOOK = Symbol('sockjs.serverHook');
type HookedServer = AnyServer & { [HOOK]?: Hook };

/**
 * Lets SockJS see a server's requests before any 'request' or 'upgrade' listener: what an
 * interceptor answers reaches no listener; everything else reaches every listener as
 * usual, registered before or after alike. (Re-registering the listeners, as sockjs-node
 * did, would let listeners added later answer SockJS requests too.)
 */
function hookOf(server: AnyServer): Hook {
  const hooked = server as HookedServer;
  const existing = hooked[HOOK];
  if (existing !== undefined) return existing;
  const originalEmit = server.emit;
  const hook: Hook = { requests: [], upgrades: [], originalEmit };
  Object.defineProperty(hooked, HOOK, { value: hook, configurable: true });
  const emit = originalEmit as (event: string | symbol, ...args: unknown[]) => boolean;
  server.emit = function emitThroughSockjs(
    this: AnyServer,
    event: string | symbol,
    ...args: unknown[]
  ): boolean {
    if (event === 'request') {
      for (const intercept of hook.requests) {
        if (intercept(args[0] as IncomingMessage, args[1] as ServerResponse)) return true;
      }
    } else if (event === 'upgrade') {
      for (const intercept of hook.upgrades) {
        if (intercept(args[0] as IncomingMessage, args[1] as Duplex, args[2] as Buffer)) return true;
      }
    }
    return emit.call(this, event, ...args);
  } as AnyServer['emit'];
  return hook;
}

export function interceptRequests(server: AnyServer, interceptor: RequestInterceptor): void {
  hookOf(server).requests.push(interceptor);
}

export function interceptUpgrades(server: AnyServer, interceptor: UpgradeInterceptor): void {
  hookOf(server).upgrades.push(interceptor);
}

/** Removes interceptors; the server gets its own emit back once none is left. */
export function removeInterceptors(
  server: AnyServer,
  request: RequestInterceptor | null,
  upgrade: UpgradeInterceptor | null,
): void {
  const hooked = server as HookedServer;
  const hook = hooked[HOOK];
  if (hook === undefined) return;
  const r = request === null ? -1 : hook.requests.indexOf(request);
  if (r !== -1) hook.requests.splice(r, 1);
  const u = upgrade === null ? -1 : hook.upgrades.indexOf(upgrade);
  if (u !== -1) hook.upgrades.splice(u, 1);
  if (hook.requests.length === 0 && hook.upgrades.length === 0) {
    server.emit = hook.originalEmit;
    delete hooked[HOOK];
  }
}
