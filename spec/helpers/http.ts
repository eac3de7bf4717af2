/**
 * Tiny HTTP clients for the byte-exact protocol tests.
 *
 * - `request()` is a one-shot request on `node:http` (no agent, no keep-alive) that
 *   collects the whole body.
 * - `stream()` and `RawConnection` speak HTTP/1.x directly over `node:net`, so a test
 *   sees exactly what went over the wire: the status line, every header, and (for
 *   chunked responses) each HTTP chunk on its own, the way the SockJS protocol suite
 *   reads one chunk per frame.
 *
 * Every helper rejects after a timeout instead of hanging, and every socket is
 * destroyed by `close()`.
 */
import http from 'node:http';
import net from 'node:net';

/** How long any single helper operation may take before it rejects. */
export const DEFAULT_TIMEOUT_MS = 4000;

export type Headers = Record<string, string>;

export interface HttpResponse {
  readonly status: number;
  /** Lower-case header names; repeated headers are joined with `, `. */
  readonly headers: Headers;
  readonly body: string;
}

export interface RequestOptions {
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
  readonly timeoutMs?: number;
  /** The client's own address (any of 127.0.0.0/8 on loopback); the system's choice by default. */
  readonly localAddress?: string;
  /** Keeps connections for later requests; by default each request has its own. */
  readonly agent?: http.Agent;
}

interface Target {
  readonly host: string;
  readonly port: number;
  /** The path exactly as written (no dot-segment or slash normalisation). */
  readonly path: string;
}

/**
 * Splits `http://host:port/path?query` without normalising the path: `new URL()` would
 * turn `/echo/./././xhr` into `/echo/xhr`, and the 404 tests need the raw path.
 */
export function splitUrl(url: string): Target {
  const m = /^http:\/\/([^/:?#]+)(?::(\d+))?(.*)$/.exec(url);
  if (m === null) {
    throw new Error(`unsupported url: ${url}`);
  }
  const host = m[1] ?? '';
  const port = m[2] === undefined ? 80 : Number(m[2]);
  const rest = m[3] ?? '';
  return { host, port, path: rest === '' ? '/' : rest };
}

function toBuffer(body: string | Buffer | undefined): Buffer | undefined {
  if (body === undefined) return undefined;
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
}

function flattenHeaders(raw: http.IncomingHttpHeaders): Headers {
  const out: Headers = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function timeoutError(what: string, ms: number): Error {
  return new Error(`timed out after ${ms} ms: ${what}`);
}

/**
 * One request on a fresh connection; resolves with the complete response once the body
 * has ended. POST/PUT requests always carry a Content-Length (0 without a body).
 */
export function request(method: string, url: string, options: RequestOptions = {}): Promise<HttpResponse> {
  const target = splitUrl(url);
  const body = toBuffer(options.body);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  const hasLength = Object.keys(headers).some((h) => h.toLowerCase() === 'content-length');
  if (!hasLength && (body !== undefined || method === 'POST' || method === 'PUT')) {
    headers['Content-Length'] = String(body?.length ?? 0);
  }

  return new Promise<HttpResponse>((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | null, res?: HttpResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err !== null) {
        req.destroy();
        reject(err);
      } else if (res !== undefined) {
        resolve(res);
      }
    };
    const req = http.request({
      host: target.host,
      port: target.port,
      path: target.path,
      method,
      headers,
      agent: options.agent ?? false,
      localAddress: options.localAddress,
    });
    const timer = setTimeout(() => finish(timeoutError(`${method} ${url}`, timeoutMs)), timeoutMs);
    req.on('error', (err) => finish(err));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', (err) => finish(err));
      res.on('end', () => {
        finish(null, {
          status: res.statusCode ?? 0,
          headers: flattenHeaders(res.headers),
          body: Buffer.concat(chunks).toString('utf8'),
        });
        if (options.agent === undefined) res.socket?.destroy();
      });
    });
    req.end(body);
  });
}

export const GET = (url: string, options?: RequestOptions): Promise<HttpResponse> =>
  request('GET', url, options);
export const POST = (url: string, options?: RequestOptions): Promise<HttpResponse> =>
  request('POST', url, options);
export const OPTIONS = (url: string, options?: RequestOptions): Promise<HttpResponse> =>
  request('OPTIONS', url, options);

/** A short pause, for letting the server notice a request or an abort. Never long. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------------
// Raw connection over node:net
// ---------------------------------------------------------------------------------

export interface RawRequestOptions {
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
  /** HTTP version on the request line: '1.1' (default) or '1.0'. */
  readonly http?: '1.0' | '1.1';
  /** The client's own address (any of 127.0.0.0/8 on loopback); the system's choice by default. */
  readonly localAddress?: string;
}

export interface RawResponseHead {
  /** The version from the status line, e.g. '1.1'. */
  readonly http: string;
  readonly status: number;
  readonly reason: string;
  /** Lower-case header names; repeated headers are joined with `, `. */
  readonly headers: Headers;
}

/**
 * A socket with a byte buffer and blocking-style reads (each of which times out).
 * Mirrors `RawHttpConnection` from the Python suite's utils.
 */
export class RawConnection {
  private buffer: Buffer = Buffer.alloc(0);
  private eof = false;
  private error: Error | null = null;
  private wake: (() => void) | null = null;

  private constructor(
    private readonly socket: net.Socket,
    private readonly hostHeader: string,
    readonly timeoutMs: number,
  ) {
    socket.on('data', (data: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, data]);
      this.notify();
    });
    socket.on('end', () => {
      this.eof = true;
      this.notify();
    });
    socket.on('close', () => {
      this.eof = true;
      this.notify();
    });
    socket.on('error', (err) => {
      this.error = err;
      this.notify();
    });
  }

  static connect(
    url: string,
    timeoutMs: number = DEFAULT_TIMEOUT_MS,
    localAddress?: string,
  ): Promise<RawConnection> {
    const target = splitUrl(url);
    return new Promise<RawConnection>((resolve, reject) => {
      const socket = net.connect({ host: target.host, port: target.port, localAddress });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(timeoutError(`connect to ${url}`, timeoutMs));
      }, timeoutMs);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new RawConnection(socket, `${target.host}:${target.port}`, timeoutMs));
      });
    });
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    if (wake !== null) wake();
  }

  /** Waits until `ready()` holds, the socket ends, or the timeout passes (rejects). */
  private async waitUntil(ready: () => boolean, what: string, timeoutMs = this.timeoutMs): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!ready()) {
      if (this.error !== null) throw this.error;
      if (this.eof) return;
      const left = deadline - Date.now();
      if (left <= 0) throw timeoutError(what, timeoutMs);
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

  private take(n: number): Buffer {
    const out = this.buffer.subarray(0, n);
    this.buffer = this.buffer.subarray(n);
    return Buffer.from(out);
  }

  /** Sends raw bytes. */
  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Writes a request (adding Host and, when there is a body or it is a POST, Content-Length). */
  sendRequest(method: string, path: string, options: RawRequestOptions = {}): void {
    const body = toBuffer(options.body) ?? (method === 'POST' ? Buffer.alloc(0) : undefined);
    const lines = [`${method} ${path} HTTP/${options.http ?? '1.1'}`];
    const given = options.headers ?? {};
    const names = Object.keys(given).map((h) => h.toLowerCase());
    if (!names.includes('host')) lines.push(`Host: ${this.hostHeader}`);
    for (const [name, value] of Object.entries(given)) lines.push(`${name}: ${value}`);
    if (body !== undefined && !names.includes('content-length')) lines.push(`Content-Length: ${body.length}`);
    this.send(lines.join('\r\n') + '\r\n\r\n');
    if (body !== undefined && body.length > 0) this.send(body);
  }

  /** Sends a request and reads the status line and headers of the response. */
  async request(method: string, path: string, options: RawRequestOptions = {}): Promise<RawResponseHead> {
    this.sendRequest(method, path, options);
    return this.readHead();
  }

  /** Reads a status line and headers. */
  async readHead(): Promise<RawResponseHead> {
    const statusLine = await this.readLine();
    const m = /^HTTP\/(\S+) (\d{3})(?: (.*))?$/.exec(statusLine);
    if (m === null) throw new Error(`bad status line: ${JSON.stringify(statusLine)}`);
    const headers: Headers = {};
    for (;;) {
      const line = await this.readLine();
      if (line === '') break;
      const colon = line.indexOf(':');
      if (colon < 0) throw new Error(`bad header line: ${JSON.stringify(line)}`);
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    return { http: m[1] ?? '', status: Number(m[2]), reason: m[3] ?? '', headers };
  }

  /** Reads one line and returns it without its `\r\n` (or `\n`). Rejects at EOF. */
  async readLine(): Promise<string> {
    await this.waitUntil(() => this.buffer.includes(0x0a), 'reading a line');
    const nl = this.buffer.indexOf(0x0a);
    if (nl < 0) throw new Error('connection closed while reading a line');
    return this.take(nl + 1)
      .toString('latin1')
      .replace(/\r?\n$/, '');
  }

  /** Reads exactly `n` bytes. Rejects if the connection ends first. */
  async readBytes(n: number): Promise<Buffer> {
    await this.waitUntil(() => this.buffer.length >= n, `reading ${n} bytes`);
    if (this.buffer.length < n) {
      throw new Error(`connection closed after ${this.buffer.length} of ${n} bytes`);
    }
    return this.take(n);
  }

  /** Reads exactly `n` bytes as UTF-8. */
  async read(n: number): Promise<string> {
    return (await this.readBytes(n)).toString('utf8');
  }

  /** Whatever arrives next (at least one byte), or null once the connection has ended. */
  async readSome(): Promise<Buffer | null> {
    await this.waitUntil(() => this.buffer.length > 0, 'reading data');
    if (this.buffer.length === 0) return null;
    return this.take(this.buffer.length);
  }

  /** Everything until the server closes the connection. */
  async readUntilClose(): Promise<Buffer> {
    await this.waitUntil(() => false, 'reading until the connection closes');
    return this.take(this.buffer.length);
  }

  /**
   * Reads one HTTP chunk of a chunked body and returns its data; the terminating
   * zero-size chunk (and its trailer) gives `''`.
   */
  async readChunkBytes(): Promise<Buffer> {
    const sizeLine = await this.readLine();
    const size = Number.parseInt(sizeLine.split(';')[0] ?? '', 16);
    if (!Number.isFinite(size) || size < 0)
      throw new Error(`bad chunk size line: ${JSON.stringify(sizeLine)}`);
    if (size === 0) {
      // Trailer section: header lines until an empty line.
      while ((await this.readLine()) !== '') {
        /* ignore trailers */
      }
      return Buffer.alloc(0);
    }
    const data = await this.readBytes(size);
    const crlf = (await this.readBytes(2)).toString('latin1');
    if (crlf !== '\r\n') throw new Error(`chunk not followed by CRLF: ${JSON.stringify(crlf)}`);
    return data;
  }

  async readChunk(): Promise<string> {
    return (await this.readChunkBytes()).toString('utf8');
  }

  /** Bytes received but not read yet. */
  get pending(): number {
    return this.buffer.length;
  }

  /** True once the server has ended the connection (and everything was read). */
  get ended(): boolean {
    return this.eof;
  }

  /**
   * Waits up to `timeoutMs` for the server to close the connection. True if it did
   * with nothing left unread; false if it stayed open; rejects if more data arrives.
   */
  async closedWithin(timeoutMs = 1000): Promise<boolean> {
    try {
      await this.waitUntil(() => this.buffer.length > 0, 'waiting for the connection to close', timeoutMs);
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('timed out')) return false;
      if (isConnectionReset(err)) return true;
      throw err;
    }
    if (this.buffer.length > 0) {
      throw new Error(
        `expected the connection to close, got ${JSON.stringify(this.buffer.toString('utf8'))}`,
      );
    }
    return true;
  }

  /** Destroys the socket (an abrupt client abort). */
  close(): void {
    this.socket.destroy();
  }
}

function isConnectionReset(err: unknown): boolean {
  return err instanceof Error && 'code' in err && (err.code === 'ECONNRESET' || err.code === 'EPIPE');
}

// ---------------------------------------------------------------------------------
// Streaming responses
// ---------------------------------------------------------------------------------

export interface StreamingResponse {
  readonly status: number;
  readonly http: string;
  /** Lower-case header names; repeated headers are joined with `, `. */
  readonly headers: Headers;
  /**
   * The next piece of the body: one HTTP chunk for a chunked response, the whole
   * body for a Content-Length response, otherwise whatever arrived next. Null once the
   * response has ended. Rejects after a timeout if nothing comes.
   */
  read(): Promise<string | null>;
  /** Everything until the end of the response. */
  readAll(): Promise<string>;
  /** Aborts the request (destroys the connection). Safe to call more than once. */
  close(): void;
  /** The underlying connection, for tests that need more control. */
  readonly connection: RawConnection;
}

/**
 * Starts a request and resolves once the response head has arrived; the body is then
 * read piece by piece. Always HTTP/1.1 unless `http: '1.0'` is given.
 */
export async function stream(
  method: string,
  url: string,
  options: RawRequestOptions = {},
): Promise<StreamingResponse> {
  const target = splitUrl(url);
  const conn = await RawConnection.connect(url, DEFAULT_TIMEOUT_MS, options.localAddress);
  let head: RawResponseHead;
  try {
    head = await conn.request(method, target.path, options);
  } catch (err) {
    conn.close();
    throw err;
  }
  const chunked = (head.headers['transfer-encoding'] ?? '').toLowerCase().includes('chunked');
  const lengthHeader = head.headers['content-length'];
  const noBody = method === 'HEAD' || head.status === 204 || head.status === 304 || head.status === 101;
  let remaining = lengthHeader === undefined ? -1 : Number(lengthHeader);
  let done = noBody;

  const read = async (): Promise<string | null> => {
    if (done) return null;
    if (chunked) {
      // A chunked body that ends without its terminating zero-size chunk is an error
      // (browsers report it as a network error), so readChunkBytes rejects then.
      const chunk = await conn.readChunkBytes();
      if (chunk.length === 0) {
        done = true;
        conn.close();
        return null;
      }
      return chunk.toString('utf8');
    }
    if (remaining >= 0) {
      if (remaining === 0) {
        done = true;
        conn.close();
        return null;
      }
      const data = await conn.readBytes(remaining);
      remaining = 0;
      return data.toString('utf8');
    }
    const data = await conn.readSome();
    if (data === null) {
      done = true;
      return null;
    }
    return data.toString('utf8');
  };

  const readAll = async (): Promise<string> => {
    let out = '';
    for (;;) {
      const piece = await read();
      if (piece === null) return out;
      out += piece;
    }
  };

  return {
    status: head.status,
    http: head.http,
    headers: head.headers,
    read,
    readAll,
    close: () => conn.close(),
    connection: conn,
  };
}

/**
 * Sends a request on a fresh connection without waiting for any answer (like the
 * Python suite's `old_POST_async(load=False)`), for tests that need a receiving request
 * to be parked on the server. Give the server a moment (`delay`) before relying on it.
 */
export async function fireAndHold(
  method: string,
  url: string,
  options: RawRequestOptions = {},
): Promise<RawConnection> {
  const target = splitUrl(url);
  const conn = await RawConnection.connect(url, DEFAULT_TIMEOUT_MS, options.localAddress);
  conn.sendRequest(method, target.path, options);
  return conn;
}
