import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FrontDoor } from '../front-door';
import { attachUpgrade, runUpgrade } from '../upgrade';
import type { PrefixMatcher } from './options';
import {
  interceptRequests,
  interceptUpgrades,
  removeInterceptors,
  type AnyServer,
  type RequestInterceptor,
  type UpgradeInterceptor,
} from '../server-hook';

/** One service installed on an http server at a prefix. */
export interface Mount {
  readonly match: PrefixMatcher;
  readonly door: FrontDoor;
}

interface Installed {
  readonly request: RequestInterceptor;
  readonly upgrade: UpgradeInterceptor;
}

/** What each owner (a compat Server) installed on each http server, for detach(). */
const INSTALLED = new WeakMap<object, Map<AnyServer, Installed[]>>();

/**
 * Serves every request and upgrade under the mount's prefix before any listener of
 * `server` sees it; the rest reach the listeners as usual.
 */
export function install(server: AnyServer, mount: Mount, owner: object): void {
  const { door, match } = mount;
  const request: RequestInterceptor = (req, res) => {
    const url = req.url ?? '/';
    const base = match(url);
    if (base === null) return false;
    door.serve(req, res, url.slice(base.length), base);
    return true;
  };
  const upgrade: UpgradeInterceptor = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = req.url ?? '/';
    const base = match(url);
    if (base === null) return false;
    const path = url.slice(base.length);
    if (door.upgradeDirectly(req, socket, head, path, base)) return true;
    runUpgrade(req, socket, head, false, (res: ServerResponse) => door.serve(req, res, path, base));
    return true;
  };
  interceptRequests(server, request);
  interceptUpgrades(server, upgrade);
  // Node emits 'upgrade' only to a server with an upgrade listener; this one sends the
  // upgrades that are not ours on to the request listeners, as Node does without it.
  attachUpgrade(server);

  let byServer = INSTALLED.get(owner);
  if (byServer === undefined) INSTALLED.set(owner, (byServer = new Map()));
  const list = byServer.get(server) ?? [];
  list.push({ request, upgrade });
  byServer.set(server, list);
}

/** Removes every mount `owner` installed on `server`. */
export function uninstall(server: AnyServer, owner: object): void {
  const byServer = INSTALLED.get(owner);
  const list = byServer?.get(server);
  if (byServer === undefined || list === undefined) return;
  for (const { request, upgrade } of list) removeInterceptors(server, request, upgrade);
  byServer.delete(server);
}
