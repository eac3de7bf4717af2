/**
 * A queue-based RFC 6455 client on the `ws` package, in the style of the Python suite's
 * `WebSocket8Client`: `recv()` gives the next text message and rejects if the connection
 * closed instead; every wait times out.
 */
import WebSocket from 'ws';

import { DEFAULT_TIMEOUT_MS } from './http';

export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
}

type WsEvent = { readonly kind: 'message'; readonly data: string } | ({ readonly kind: 'close' } & CloseInfo);

export class ConnectionClosedError extends Error {
  constructor(readonly info: CloseInfo) {
    super(`websocket closed with ${info.code} ${JSON.stringify(info.reason)}`);
  }
}

/** Turns `http://host:port/path` into `ws://host:port/path`. */
export function toWsUrl(httpUrl: string): string {
  return httpUrl.replace(/^http:/, 'ws:');
}

export class WsClient {
  private readonly events: WsEvent[] = [];
  private wake: (() => void) | null = null;
  private closedInfo: CloseInfo | null = null;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      const text = Buffer.isBuffer(data)
        ? data.toString('utf8')
        : Array.isArray(data)
          ? Buffer.concat(data).toString('utf8')
          : Buffer.from(data).toString('utf8');
      this.push({ kind: 'message', data: isBinary ? `<binary>${text}` : text });
    });
    socket.on('close', (code: number, reason: Buffer) => {
      this.closedInfo = { code, reason: reason.toString('utf8') };
      this.push({ kind: 'close', ...this.closedInfo });
    });
    socket.on('error', () => {
      /* a 'close' event follows */
    });
  }

  /** Opens a websocket (an `http://` url is accepted too); rejects on a failed upgrade. */
  static connect(
    url: string,
    timeoutMs: number = DEFAULT_TIMEOUT_MS,
    headers: Record<string, string> = {},
  ): Promise<WsClient> {
    const socket = new WebSocket(toWsUrl(url), { perMessageDeflate: false, headers });
    const client = new WsClient(socket);
    return new Promise<WsClient>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.terminate();
        reject(new Error(`timed out after ${timeoutMs} ms opening ${url}`));
      }, timeoutMs);
      socket.once('open', () => {
        clearTimeout(timer);
        resolve(client);
      });
      socket.once('unexpected-response', (_req, res) => {
        clearTimeout(timer);
        socket.terminate();
        reject(new Error(`websocket upgrade to ${url} answered ${res.statusCode ?? '?'}`));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  private push(event: WsEvent): void {
    this.events.push(event);
    const wake = this.wake;
    this.wake = null;
    if (wake !== null) wake();
  }

  /** The next event (message or close), without consuming a close. */
  private async next(timeoutMs: number): Promise<WsEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const first = this.events[0];
      if (first !== undefined) {
        if (first.kind === 'message') this.events.shift();
        return first;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for a websocket message`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.wake = null;
          resolve();
        }, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** The next text message; rejects with ConnectionClosedError if the socket closed instead. */
  async recv(timeoutMs: number = DEFAULT_TIMEOUT_MS): Promise<string> {
    const event = await this.next(timeoutMs);
    if (event.kind === 'close') throw new ConnectionClosedError(event);
    return event.data;
  }

  /**
   * Waits until the server closes the connection and returns the close code and reason;
   * rejects if a message arrives first or nothing happens in time.
   */
  async expectClose(timeoutMs: number = DEFAULT_TIMEOUT_MS): Promise<CloseInfo> {
    const event = await this.next(timeoutMs);
    if (event.kind === 'message') {
      throw new Error(`expected the websocket to close, got message ${JSON.stringify(event.data)}`);
    }
    return event;
  }

  send(data: string): void {
    this.socket.send(data);
  }

  /** Whether a close has been received so far (no waiting). */
  get isClosed(): boolean {
    return this.closedInfo !== null;
  }

  /** Closes politely and waits for the close handshake, terminating if it takes too long. */
  async close(timeoutMs = 1000): Promise<void> {
    if (this.closedInfo !== null || this.socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.socket.terminate();
        resolve();
      }, timeoutMs);
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      if (this.socket.readyState === WebSocket.CONNECTING) {
        this.socket.terminate();
      } else {
        this.socket.close();
      }
    });
  }
}

/** The status a WebSocket handshake to `url` gets with these request headers: 101 when it opens. */
export function handshakeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws'), { headers });
    ws.once('open', () => {
      ws.terminate();
      resolve(101);
    });
    ws.once('unexpected-response', (req, res) => {
      res.resume();
      req.destroy();
      resolve(res.statusCode ?? 0);
    });
    ws.once('error', reject);
  });
}
