import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { RouteTable } from '../routes';
import { sendNotFound } from '../http/respond';
import { attachUpgrade, runUpgrade } from '../upgrade';

/** One service installed on an http server at a prefix. */
export interface Mount {
  readonly pattern: RegExp;
  readonly routes: RouteTable;
  /** Who installed it, for detach(). */
  readonly owner: object;
}

type AnyServer = HttpServer | HttpsServer;
type Emit = AnyServer['emit'];

interface Hook {
  readonly mounts: Mount[];
  readonly originalEmit: Emit;
}

const HOOK = Symbol('sockjs.compat.hook');
type HookedServer = AnyServer & { [HOOK]?: Hook };

function findMount(mounts: readonly Mount[], url: string): { mount: Mount; base: string } | null {
  for (const mount of mounts) {
    const match = mount.pattern.exec(url);
    if (match !== null) return { mount, base: match[0] };
  }
  return null;
}

/**
 * Serves requests under the installed prefixes before any 'request' or 'upgrade'
 * listener sees them; every other request reaches the server's listeners as usual, those
 * registered before and after alike. (sockjs-node re-registered the listeners instead, so
 * listeners added later also answered SockJS requests.)
 */
export function install(server: AnyServer, mount: Mount): void {
  const hooked = server as HookedServer;
  let hook = hooked[HOOK];
  if (hook === undefined) {
    const originalEmit = server.emit;
    const mounts: Mount[] = [];
    hook = { mounts, originalEmit };
    Object.defineProperty(hooked, HOOK, { value: hook, configurable: true });
    server.emit = function emitThroughSockjs(
      this: AnyServer,
      event: string | symbol,
      ...args: unknown[]
    ): boolean {
      if (
        event === 'request' &&
        serveRequest(mounts, args[0] as IncomingMessage, args[1] as ServerResponse)
      ) {
        return true;
      }
      if (
        event === 'upgrade' &&
        serveUpgrade(mounts, args[0] as IncomingMessage, args[1] as Duplex, args[2] as Buffer)
      ) {
        return true;
      }
      return (originalEmit as (event: string | symbol, ...args: unknown[]) => boolean).call(
        this,
        event,
        ...args,
      );
    } as Emit;
  }
  hook.mounts.push(mount);
  // Node emits 'upgrade' only to a server with an upgrade listener; this one sends the
  // upgrades that are not ours on to the request listeners, as Node does without it.
  attachUpgrade(server);
}

/** Removes every mount `owner` installed on `server`; the last one restores its emit. */
export function uninstall(server: AnyServer, owner: object): void {
  const hooked = server as HookedServer;
  const hook = hooked[HOOK];
  if (hook === undefined) return;
  for (let i = hook.mounts.length - 1; i >= 0; i--)
    if (hook.mounts[i].owner === owner) hook.mounts.splice(i, 1);
  if (hook.mounts.length === 0) {
    server.emit = hook.originalEmit;
    delete hooked[HOOK];
  }
}

function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

function serveRequest(mounts: readonly Mount[], req: IncomingMessage, res: ServerResponse): boolean {
  const url = req.url ?? '/';
  const found = findMount(mounts, pathOf(url));
  if (found === null) return false;
  if (!found.mount.routes.handle(req, res, url.slice(found.base.length), found.base)) sendNotFound(res);
  return true;
}

function serveUpgrade(mounts: readonly Mount[], req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
  const url = req.url ?? '/';
  const found = findMount(mounts, pathOf(url));
  if (found === null) return false;
  runUpgrade(req, socket, head, false, (res) => {
    if (!found.mount.routes.handle(req, res, url.slice(found.base.length), found.base)) sendNotFound(res);
  });
  return true;
}
