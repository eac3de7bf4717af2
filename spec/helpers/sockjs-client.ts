/**
 * The real npm `sockjs-client` (1.x) for Node, typed with just what the specs use, plus a
 * small harness that turns its callbacks into awaitable steps that time out instead of
 * hanging.
 */
import { createRequire } from 'node:module';

/** Transports sockjs-client can carry in Node (no DOM, no iframes). */
export type NodeClientTransport = 'websocket' | 'xhr-streaming' | 'xhr-polling' | 'eventsource';

export interface SockjsClientOptions {
  /** Whitelist of transports to try, in the client's own order. */
  transports?: NodeClientTransport | NodeClientTransport[];
  /** Minimum ms to wait for a transport to open before trying the next one. */
  timeout?: number;
}

export interface SockjsMessageEvent {
  readonly type: 'message';
  readonly data: unknown;
}

export interface SockjsCloseEvent {
  readonly type: 'close';
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
}

export interface SockjsClient {
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  /** Name of the transport in use; set on open, null again once closed. */
  readonly transport: string | null | undefined;
  readonly url: string;
  onopen: (() => void) | null;
  onmessage: ((event: SockjsMessageEvent) => void) | null;
  onclose: ((event: SockjsCloseEvent) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type SockjsClientConstructor = new (
  url: string,
  protocols?: string | string[] | null,
  options?: SockjsClientOptions,
) => SockjsClient;

const requireModule = createRequire(__filename);

/** The `SockJS` constructor of the installed sockjs-client package (Node entry). */
export const SockJS = requireModule('sockjs-client') as SockjsClientConstructor;

/** Settles like `promise`, or rejects once `ms` milliseconds pass first. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Default wait for any single step of a client conversation. */
export const STEP_TIMEOUT_MS = 10_000;

/**
 * One sockjs-client connection with its messages queued, so a spec can `await` the next
 * one. Every wait rejects after STEP_TIMEOUT_MS.
 */
export class ClientHarness {
  readonly client: SockjsClient;
  readonly opened: Promise<void>;
  /** Resolves with the client's close event (also when the client never opened). */
  readonly closed: Promise<SockjsCloseEvent>;
  /** Every message received, in order. */
  readonly received: unknown[] = [];
  closeEvents = 0;
  private consumed = 0;
  private waiter: (() => void) | null = null;

  constructor(url: string, options: SockjsClientOptions) {
    const client = new SockJS(url, null, options);
    this.client = client;
    let onOpen: () => void = () => undefined;
    let onClose: (event: SockjsCloseEvent) => void = () => undefined;
    this.opened = new Promise<void>((resolve) => (onOpen = resolve));
    this.closed = new Promise<SockjsCloseEvent>((resolve) => (onClose = resolve));
    client.onopen = () => onOpen();
    client.onmessage = (event) => {
      this.received.push(event.data);
      this.waiter?.();
    };
    client.onclose = (event) => {
      this.closeEvents += 1;
      onClose(event);
      this.waiter?.();
    };
  }

  /** Waits for the client to open; rejects with the close event's reason if it closes first. */
  async open(): Promise<void> {
    const closedFirst = this.closed.then((event) => {
      throw new Error(`client closed before opening: ${event.code} ${event.reason}`);
    });
    await within(Promise.race([this.opened, closedFirst]), STEP_TIMEOUT_MS, 'the client to open');
  }

  /** The next message not yet returned by this method. */
  async nextMessage(): Promise<unknown> {
    await within(
      new Promise<void>((resolve) => {
        const check = (): void => {
          if (this.received.length > this.consumed || this.closeEvents > 0) {
            this.waiter = null;
            resolve();
          } else {
            this.waiter = check;
          }
        };
        check();
      }),
      STEP_TIMEOUT_MS,
      `message #${this.consumed + 1}`,
    );
    if (this.received.length <= this.consumed) throw new Error('client closed while waiting for a message');
    return this.received[this.consumed++];
  }

  /** Closes the client (if still open) and waits for its close event. */
  async close(code = 1000, reason = 'Normal closure'): Promise<SockjsCloseEvent> {
    if (this.client.readyState < 2) this.client.close(code, reason);
    return within(this.closed, STEP_TIMEOUT_MS, 'the client close event');
  }
}
