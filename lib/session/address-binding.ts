import type { IncomingMessage } from 'node:http';
import type { Session } from './session';
import type { SessionWatcher } from './registry';
import { appOf, clientAddress, type AddressingApp } from '../http/client-address';

/** The address a session is bound to, and the app that read it (to read later ones alike). */
interface Binding {
  readonly address: string | undefined;
  readonly app: AddressingApp | null;
}

/**
 * The `bindSessionToAddress` option: each HTTP session is bound to the client address of
 * the request that opened it, and only requests from that address may use it. WebSocket
 * sessions are never bound: each lives exactly as long as its one socket, and no other
 * request can reach it.
 */
export class SessionAddresses implements SessionWatcher {
  private readonly bindings = new Map<Session, Binding>();

  opened(session: Session, opener: IncomingMessage): void {
    const app = appOf(opener);
    this.bindings.set(session, { address: clientAddress(opener, app), app });
  }

  forgotten(session: Session): void {
    this.bindings.delete(session);
  }

  /** Whether `req` comes from the address `session` is bound to (false when either is unknown). */
  admits(session: Session, req: IncomingMessage): boolean {
    const binding = this.bindings.get(session);
    if (binding === undefined || binding.address === undefined) return false;
    return clientAddress(req, binding.app) === binding.address;
  }
}
