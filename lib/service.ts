import type { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NormalizedOptions } from './options';
import type { ConnectionProtocol } from './transports/receiver';
import type { TransportContext } from './transports/session-request';
import { SessionRegistry } from './session/registry';
import { SessionLookup } from './session/lookup';
import { SessionAddresses } from './session/address-binding';
import { WebsocketEndpoint } from './websocket/endpoint';
import { setJsessionid } from './http/cookie';
import { StallWatch } from './http/body';

/** What `stats()` reports for one service. */
export interface ServiceStats {
  /** Open connections (sessions the application holds). */
  readonly connections: number;
  /** Open connections by the transport that opened them. */
  readonly connectionsByProtocol: Readonly<Partial<Record<ConnectionProtocol, number>>>;
  /** Application messages received from clients, and their UTF-8 bytes. */
  readonly messagesIn: number;
  readonly bytesIn: number;
  /** Application messages written to clients, and their UTF-8 bytes. */
  readonly messagesOut: number;
  readonly bytesOut: number;
}

/**
 * One SockJS service, put together: its sessions (one registry), the lookup the HTTP
 * transports find them with, and its websocket endpoint. It answers no request itself:
 * the route table does (routes.ts).
 */
export class SockjsService {
  readonly registry: SessionRegistry;
  readonly sessions: SessionLookup;
  readonly websockets: WebsocketEndpoint;
  /** The client address of each HTTP session, with `bindSessionToAddress`; else null. */
  readonly addresses: SessionAddresses | null;
  /** Everything the HTTP transports may use. */
  readonly transports: TransportContext;
  /** Set by close(): resolves when every session is gone. */
  private closing: Promise<void> | null = null;

  constructor(
    readonly options: NormalizedOptions,
    /** Emits `connection` (the Router users hold). */
    emitter: EventEmitter,
  ) {
    this.registry = new SessionRegistry(options, (connection) => emitter.emit('connection', connection));
    this.sessions = new SessionLookup(this.registry);
    this.addresses = options.bindSessionToAddress ? new SessionAddresses() : null;
    if (this.addresses !== null) this.registry.watch(this.addresses);
    const setCookie =
      options.jsessionid === false
        ? doNothing
        : (req: IncomingMessage, res: ServerResponse): void => setJsessionid(options, req, res);
    this.websockets = new WebsocketEndpoint(options, this.registry, setCookie);
    this.transports = Object.freeze({
      sessions: this.sessions,
      addresses: this.addresses,
      responseLimit: options.responseLimit,
      disableCors: options.disableCors,
      maxBodySize: options.maxBodySize,
      bodyWatch: new StallWatch(options.bodyTimeout),
      log: options.log,
      setCookie,
    });
  }

  /**
   * Graceful shutdown: new sessions get 503; every open session gets 1001 "Server shutting
   * down" after what is queued for it; responses end and websockets start their close
   * handshake. Resolves once every session is gone: every websocket has finished its close
   * handshake or was cut after `graceMs`.
   */
  close(graceMs = 2000): Promise<void> {
    if (this.closing !== null) return this.closing;
    const allGone = this.registry.shutdown(1001, 'Server shutting down');
    const grace = setTimeout(() => this.websockets.cutAll(), graceMs);
    // Sessions alone never keep a process alive.
    grace.unref();
    this.closing = allGone.then(() => {
      clearTimeout(grace);
      this.websockets.stop();
    });
    return this.closing;
  }

  /** A snapshot of open connections and message totals (see ServiceStats). */
  stats(): ServiceStats {
    const { total, byProtocol } = this.registry.openConnections();
    const { messagesIn, bytesIn, messagesOut, bytesOut } = this.registry.traffic;
    return {
      connections: total,
      connectionsByProtocol: byProtocol,
      messagesIn,
      bytesIn,
      messagesOut,
      bytesOut,
    };
  }
}

function doNothing(): void {}
