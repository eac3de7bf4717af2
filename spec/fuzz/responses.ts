/**
 * Reading responses off a RawConnection: the first final response in what came back,
 * parsed as it arrives, for answers to requests that may be broken in any way.
 */
import type { RawConnection } from '../helpers/http';
import { delay } from '../helpers/server';

export interface ParsedResponse {
  readonly status: number;
  /** Lower-case names; repeated headers joined with `, ` (except set-cookie). */
  readonly headers: Record<string, string>;
  readonly cookies: readonly string[];
  readonly body: Buffer;
  /** The whole body arrived. */
  readonly complete: boolean;
  /** Bytes after this response (a second answer, to garbage we sent). */
  readonly leftover: number;
}

function parseChunked(data: Buffer, from: number): { body: Buffer; end: number } | { body: Buffer; end: -1 } {
  const pieces: Buffer[] = [];
  let at = from;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at, 'latin1');
    if (lineEnd === -1) return { body: Buffer.concat(pieces), end: -1 };
    const size = Number.parseInt(data.subarray(at, lineEnd).toString('latin1').split(';')[0] ?? '', 16);
    if (!Number.isFinite(size)) return { body: Buffer.concat(pieces), end: -1 };
    if (size === 0) {
      const trailerEnd = data.indexOf('\r\n', lineEnd + 2, 'latin1');
      return trailerEnd === -1
        ? { body: Buffer.concat(pieces), end: -1 }
        : { body: Buffer.concat(pieces), end: trailerEnd + 2 };
    }
    if (data.length < lineEnd + 2 + size + 2) {
      pieces.push(data.subarray(lineEnd + 2, Math.min(data.length, lineEnd + 2 + size)));
      return { body: Buffer.concat(pieces), end: -1 };
    }
    pieces.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}

/** Parses the first final response in `data`; null until its head is complete. */
function parseResponse(data: Buffer, method: string, eof: boolean): ParsedResponse | null {
  let start = 0;
  for (;;) {
    const headEnd = data.indexOf('\r\n\r\n', start, 'latin1');
    if (headEnd === -1) return null;
    const lines = data.subarray(start, headEnd).toString('latin1').split('\r\n');
    const m = /^HTTP\/\d\.\d (\d{3})/.exec(lines[0] ?? '');
    if (m === null) throw new Error(`bad status line ${JSON.stringify(lines[0])}`);
    const status = Number(m[1]);
    const headers: Record<string, string> = {};
    const cookies: string[] = [];
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'set-cookie') cookies.push(value);
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    const bodyStart = headEnd + 4;
    if (status >= 100 && status < 200 && status !== 101) {
      start = bodyStart; // 100 Continue and friends: the real answer follows.
      continue;
    }
    const base = { status, headers, cookies };
    if (method === 'HEAD' || status === 101 || status === 204 || status === 304) {
      return { ...base, body: Buffer.alloc(0), complete: true, leftover: data.length - bodyStart };
    }
    if ((headers['transfer-encoding'] ?? '').toLowerCase().includes('chunked')) {
      const { body, end } = parseChunked(data, bodyStart);
      return { ...base, body, complete: end !== -1, leftover: end === -1 ? 0 : data.length - end };
    }
    const length = headers['content-length'];
    if (length !== undefined) {
      const n = Number(length);
      const body = data.subarray(bodyStart, bodyStart + n);
      return {
        ...base,
        body,
        complete: body.length === n,
        leftover: Math.max(0, data.length - bodyStart - n),
      };
    }
    return { ...base, body: data.subarray(bodyStart), complete: eof, leftover: 0 };
  }
}

export type Outcome =
  | { readonly kind: 'response'; readonly response: ParsedResponse }
  /** Nothing came back before the deadline (a held poll). */
  | { readonly kind: 'silent' }
  /** The connection ended before a response head. */
  | { readonly kind: 'closed' };

/**
 * Sends `bytes` and reads one response: until it is complete, or (for a stream that does
 * not end by itself) a moment after its head, or until `deadlineMs`.
 */
export async function exchange(
  conn: RawConnection,
  bytes: Buffer,
  method: string,
  deadlineMs: number,
): Promise<Outcome> {
  conn.send(bytes);
  const deadline = Date.now() + deadlineMs;
  let data = Buffer.alloc(0);
  let headAt = 0;
  for (;;) {
    if (conn.pending > 0) data = Buffer.concat([data, await conn.readBytes(conn.pending)]);
    const parsed = parseResponse(data, method, conn.ended);
    if (parsed !== null) {
      if (headAt === 0) headAt = Date.now();
      // A stream stays open: what came in the first moments is all we look at.
      if (parsed.complete || conn.ended || Date.now() - headAt > 40)
        return { kind: 'response', response: parsed };
    } else if (conn.ended) {
      return { kind: 'closed' };
    }
    if (Date.now() >= deadline)
      return parsed === null ? { kind: 'silent' } : { kind: 'response', response: parsed };
    await delay(2);
  }
}
