import { Stream } from 'node:stream';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Locals } from 'express';
import type { ConnectionProtocol } from '../transports/receiver';
import { ReadyState } from './ready-state';
import { compactListeners } from '../internals';
import type { SharedMessage } from '../protocol/shared-message';

/** What a Connection asks of the session behind it. */
export interface ConnectionSession {
  readonly readyState: ReadyState;
  /** Queues a message; false when it was dropped or the queue is above its high water mark. */
  send(message: string): boolean;
  /** `send()` for a message many connections are given at once. */
  sendShared(message: SharedMessage): boolean;
  /** Closes the session with `code` and `reason`; false when it was not open. */
  close(code: number, reason: string): boolean;
}

/**
 * Request headers copied onto `Connection.headers`: the ones that identify a client or
 * its proxies. Never `cookie` or `authorization`: the connection outlives the request
 * and is often logged.
 */
const FORWARDED_HEADERS = [
  'referer',
  'x-client-ip',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-cluster-client-ip',
  'via',
  'x-real-ip',
  'x-forwarded-proto',
  'x-ssl',
  'dnt',
  'host',
  'user-agent',
  'accept-language',
] as const;

/**
 * Every event a Connection emits, with the arguments its listeners get. `on`, `once`, `off`
 * and the other listener methods of Connection take these names only.
 */
export interface ConnectionEvents {
  /** A message from the client. */
  data: [message: string];
  /** Alias of `data` kept for sockjs-node 0.2 code. */
  message: [message: string];
  /** The connection can no longer be read (emitted right before `close`). */
  end: [];
  /** The connection is closed; emitted exactly once. */
  close: [];
  /** What write() held back (it returned false) has gone to the client. */
  drain: [];
  /**
   * Never emitted today: a fault of the client or its transport closes the connection
   * (`close`). Named because Node streams have it, so that `pipe()` and code written for
   * streams and for sockjs-node, which listen for it, keep compiling.
   */
  error: [error: Error];
  /** Emitted by Node's EventEmitter before a listener is added. */
  newListener: [event: ConnectionEventName, listener: ConnectionListener];
  /** Emitted by Node's EventEmitter after a listener is removed. */
  removeListener: [event: ConnectionEventName, listener: ConnectionListener];
}

/**
 * What `Connection.locals` holds: string keys with values of unknown type, and the keys an
 * application declares on Express's `Locals` (`declare global { namespace Express {
 * interface Locals { user: User } } }`) with their own types.
 */
export type ConnectionLocals = Record<string, unknown> & Locals;

/** The name of an event of a Connection. */
export type ConnectionEventName = keyof ConnectionEvents;

/**
 * A listener of any event, as `newListener` and `removeListener` hand it out: its arguments
 * depend on its event, so it can be compared, not called.
 */
export type ConnectionListener = (...args: never[]) => void;

/** A listener of the Connection event `K`. */
export type ConnectionListenerOf<K extends ConnectionEventName> = (...args: ConnectionEvents[K]) => void;

/**
 * The EventEmitter methods of Connection, typed from ConnectionEvents: an unknown event name
 * or a listener that expects other arguments is a compile error. Declarations only: the
 * methods are Node's own.
 */
// The interface adds types to the class's inherited methods and nothing else.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface Connection {
  on<K extends ConnectionEventName>(event: K, listener: ConnectionListenerOf<K>): this;
  once<K extends ConnectionEventName>(event: K, listener: ConnectionListenerOf<K>): this;
  off<K extends ConnectionEventName>(event: K, listener: ConnectionListenerOf<K>): this;
  addListener<K extends ConnectionEventName>(event: K, listener: ConnectionListenerOf<K>): this;
  removeListener<K extends ConnectionEventName>(event: K, listener: ConnectionListenerOf<K>): this;
  prependListener<K extends ConnectionEventName>(event: K, listener: ConnectionListenerOf<K>): this;
  prependOnceListener<K extends ConnectionEventName>(event: K, listener: ConnectionListenerOf<K>): this;
  removeAllListeners(event?: ConnectionEventName): this;
  listeners<K extends ConnectionEventName>(event: K): ConnectionListenerOf<K>[];
  rawListeners<K extends ConnectionEventName>(event: K): ConnectionListenerOf<K>[];
  listenerCount<K extends ConnectionEventName>(event: K, listener?: ConnectionListenerOf<K>): number;
  /** @internal Events come from the service alone. */
  emit<K extends ConnectionEventName>(event: K, ...args: ConnectionEvents[K]): boolean;
}

/**
 * One client, as the application sees it: the sockjs-node Connection API, the same on
 * every transport. It is a (legacy) Node stream, so `conn.pipe(dest)` works.
 */
// Merged with the interface above, which types its events.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class Connection extends Stream {
  #id: string | undefined;
  /** Last known address of the client (of the socket; see `headers` for proxies). */
  remoteAddress: string | undefined = undefined;
  remotePort: number | undefined = undefined;
  /** The local address the client connected to. */
  address: AddressInfo | Record<string, never> = {};
  /** The client's identity and forwarding headers from the request that opened it. */
  headers: IncomingHttpHeaders = {};
  /** URL of the request that opened the connection. */
  url = '';
  /** Path of that URL, without the query string. */
  pathname = '';
  /** Transport carrying the connection. */
  protocol: ConnectionProtocol | '' = '';
  #locals: ConnectionLocals | null = null;
  readonly #session: ConnectionSession;

  constructor(
    session: ConnectionSession,
    /** Base URL of the service. */
    readonly prefix: string,
  ) {
    super();
    compactListeners(this);
    this.#session = session;
  }

  /** A random id, safe to log; the protocol session id is never exposed. Made on first use. */
  get id(): string {
    if (this.#id === undefined) this.#id = randomUUID();
    return this.#id;
  }

  /**
   * A shallow copy of `res.locals` of the request that opened the connection, taken once the
   * middleware in front of the service ran: what authentication or session middleware said
   * about the client. A copy, so that it means the same on every transport: what is written
   * to that response's locals later (a streaming response lives on, a poll's does not) is not
   * seen here, and what the application writes here stays with the connection. An empty
   * object where no app ran (the sockjs-node compatible server's own installations).
   */
  get locals(): ConnectionLocals {
    return (this.#locals ??= Object.create(null) as ConnectionLocals);
  }

  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  get readyState(): ReadyState {
    return this.#session.readyState;
  }

  get readable(): boolean {
    return this.#session.readyState === ReadyState.OPEN;
  }

  get writable(): boolean {
    return this.#session.readyState === ReadyState.OPEN;
  }

  /**
   * Sends a message. Returns false when the connection is no longer open (the message is
   * dropped).
   */
  write(message: string): boolean {
    return this.#session.send(typeof message === 'string' ? message : String(message));
  }

  /**
   * @internal `write()` for a message many connections are given at once (a broker's
   * publish): its encoding is made once and shared.
   */
  writeShared(message: SharedMessage): boolean {
    return this.#session.sendShared(message);
  }

  /** Closes the connection with 1000 "Normal closure", after sending `message` if given. */
  end(message?: string): void {
    if (message !== undefined && message !== null) this.write(message);
    this.#session.close(1000, 'Normal closure');
  }

  /** Asks the client to disconnect with `code` and `reason`. */
  close(code = 1000, reason = 'Normal closure'): boolean {
    if (!Number.isInteger(code) || code < 0 || code > 4999) {
      throw new TypeError(`sockjs: close code must be an integer from 0 to 4999, got ${String(code)}`);
    }
    return this.#session.close(code, String(reason));
  }

  /**
   * sockjs-node 0.3: closes the connection. Unlike sockjs-node it keeps the listeners, so
   * `end` and `close` still fire as for every other connection.
   */
  destroy(): void {
    this.end();
  }

  /** sockjs-node 0.3: same as destroy(). */
  destroySoon(): void {
    this.destroy();
  }

  override toString(): string {
    return `<SockJSConnection ${this.id}>`;
  }

  /**
   * @internal Records where the connection comes from: the request that opened it, and the
   * `res.locals` its middleware filled (null when no app ran).
   */
  describe(
    protocol: ConnectionProtocol,
    req: IncomingMessage | null,
    socket: Socket | null,
    locals: object | null,
  ): void {
    this.protocol = protocol;
    // Null prototype, as Express's own res.locals: no inherited keys to confuse a lookup.
    if (locals !== null) this.#locals = Object.assign(Object.create(null) as ConnectionLocals, locals);
    if (req === null) return;
    if (socket) {
      this.remoteAddress = socket.remoteAddress;
      this.remotePort = socket.remotePort;
      const local = socket.address();
      if (typeof local === 'object' && 'port' in local) this.address = local;
    }
    this.url = (req as { originalUrl?: string }).originalUrl ?? req.url ?? '';
    const query = this.url.indexOf('?');
    this.pathname = query === -1 ? this.url : this.url.slice(0, query);
    const headers: Record<string, string | string[]> = {};
    for (const name of FORWARDED_HEADERS) {
      const value = req.headers[name];
      if (value !== undefined) headers[name] = value;
    }
    this.headers = headers;
  }

  /** @internal A message from the client. */
  deliver(message: string): void {
    this.emit('data', message);
    if (this.listenerCount('message') > 0) this.emit('message', message);
  }

  /** @internal The session is over. */
  closed(): void {
    this.emit('end');
    this.emit('close');
  }
}
