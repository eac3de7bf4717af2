import type { IncomingMessage } from 'node:http';

/** Why a body could not be read, with the answer it gets (none when the client aborted). */
const OUTCOMES = {
  ERR_SOCKJS_BODY_TOO_LARGE: { status: 413, answer: 'Payload too large.' },
  ERR_SOCKJS_BODY_TIMEOUT: { status: 408, answer: 'Request body timed out.' },
  ERR_SOCKJS_BODY_ABORTED: { status: null, answer: '' },
} as const;

/** A request body that could not be read. */
export class BodyError extends Error {
  /** The HTTP status to answer with; null when the client is gone and nothing can be answered. */
  readonly status: 413 | 408 | null;
  /** The answer's body. */
  readonly answer: string;

  constructor(
    message: string,
    readonly code: keyof typeof OUTCOMES,
  ) {
    super(message);
    this.name = 'BodyError';
    this.status = OUTCOMES[code].status;
    this.answer = OUTCOMES[code].answer;
  }
}

/** A body another middleware parsed into something that is no array of strings. */
const NOT_MESSAGES = '{"not":"a JSON array of strings"}';

/** What body-parser style middleware (express.json/text/raw/urlencoded) leaves on req. */
interface ParsedRequest extends IncomingMessage {
  body?: unknown;
}

/**
 * The body as another middleware already parsed it, turned back into text; undefined when
 * the stream is still ours to read. `formField` picks a field of an urlencoded form.
 */
function preParsedBody(req: ParsedRequest, formField: string | undefined): string | undefined {
  // The ended stream alone tells: parsers call next() only once they have read to the end.
  // body-parser 1's own flag would say no more, and a property a request lacks is the
  // dearest lookup under Express, which gives each request a hidden class of its own.
  if (!req.readableEnded) return undefined;
  const body = req.body;
  if (body === undefined || body === null) return '';
  if (typeof body === 'string') return body;
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  // Only a flat array of strings is a valid payload; anything else (however deeply nested:
  // never stringified back) becomes text that fails to decode, so it is answered 500
  // "Broken JSON encoding." like the same body read by us.
  if (Array.isArray(body))
    return body.every((item) => typeof item === 'string') ? JSON.stringify(body) : NOT_MESSAGES;
  if (typeof body === 'object') {
    if (formField !== undefined) {
      const field = (body as Record<string, unknown>)[formField];
      return typeof field === 'string' ? `${formField}=${encodeURIComponent(field)}` : '';
    }
    return Object.keys(body).length === 0 ? '' : NOT_MESSAGES;
  }
  return String(body);
}

/** The body as read off the socket (bytes), or as another middleware left it (text). */
type BodyCallback = (error: BodyError | null, body: string | Buffer) => void;

/** One body being read. */
class BodyReader {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private done = false;
  lastActivity = Date.now();
  /** Neighbours in the StallWatch's list. */
  prev: BodyReader | null = null;
  next: BodyReader | null = null;

  // Closures, not shared listeners that find their reader through a property of `req`:
  // under Express every request has a hidden class of its own (its prototype is set per
  // request), so adding a property to it copies that class each time: far dearer than closures.
  private readonly onData = (chunk: Buffer): void => this.data(chunk);
  private readonly onEnd = (): void => this.finish(null);
  // No 'error' listener: a request emits 'error' only to listeners it has, and 'close'
  // follows every error; a body not complete by then was cut short.
  private readonly onClose = (): void => {
    if (!this.done && !this.req.complete)
      this.finish(new BodyError('request body aborted', 'ERR_SOCKJS_BODY_ABORTED'));
  };

  constructor(
    private readonly req: IncomingMessage,
    private readonly limit: number,
    private readonly watch: StallWatch,
    private readonly callback: BodyCallback,
  ) {
    req.on('data', this.onData);
    req.on('end', this.onEnd);
    req.on('close', this.onClose);
    watch.add(this);
  }

  data(chunk: Buffer): void {
    if (this.done) return;
    this.lastActivity = Date.now();
    this.size += chunk.length;
    if (this.size > this.limit) this.finish(tooLarge(this.limit));
    else this.chunks.push(chunk);
  }

  finish(error: BodyError | null): void {
    if (this.done) return;
    this.done = true;
    // The listeners stay: once done they do nothing, and the request is over. Removing them
    // would cost four more calls, and as many slow lookups under Express.
    this.watch.delete(this);
    if (error !== null) {
      this.callback(error, '');
      return;
    }
    const chunks = this.chunks;
    this.callback(null, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, this.size));
  }
}

/**
 * Times out stalled bodies with one timer per service instead of one per request: every
 * quarter of `timeoutMs` it fails the readers idle for `timeoutMs` or more, so a stalled
 * body gets 408 after between 1 and 1.25 times `timeoutMs`.
 */
export class StallWatch {
  /**
   * The readers, oldest first, in a list threaded through them: adding and removing one
   * per request is two pointer moves, with none of the rehashing a Set does as it grows and
   * shrinks around a handful of entries.
   */
  private first: BodyReader | null = null;
  private last: BodyReader | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(readonly timeoutMs: number) {}

  add(reader: BodyReader): void {
    reader.prev = this.last;
    reader.next = null;
    if (this.last === null) this.first = reader;
    else this.last.next = reader;
    this.last = reader;
    if (this.timer === null) {
      this.timer = setInterval(() => this.sweep(), Math.max(10, Math.floor(this.timeoutMs / 4)));
      this.timer.unref();
    }
  }

  delete(reader: BodyReader): void {
    const { prev, next } = reader;
    if (prev === null) {
      // Not in the list (never added, or already removed) unless it is the first.
      if (this.first !== reader) return;
      this.first = next;
    } else {
      prev.next = next;
    }
    if (next === null) this.last = prev;
    else next.prev = prev;
    reader.prev = null;
    reader.next = null;
    // The timer stops at its next tick once nothing is watched: no timer churn per request.
  }

  private sweep(): void {
    if (this.first === null) {
      if (this.timer !== null) clearInterval(this.timer);
      this.timer = null;
      return;
    }
    const stalledBefore = Date.now() - this.timeoutMs;
    let reader: BodyReader | null = this.first;
    while (reader !== null) {
      // Read before finish() unlinks it.
      const next: BodyReader | null = reader.next;
      if (reader.lastActivity <= stalledBefore) {
        reader.finish(
          new BodyError(`request body stalled for ${this.timeoutMs} ms`, 'ERR_SOCKJS_BODY_TIMEOUT'),
        );
      }
      reader = next;
    }
  }
}

/**
 * Reads a request body, refusing it with 413 as soon as it passes `limit`
 * bytes (checked on Content-Length and again chunk by chunk, so nothing large is buffered)
 * and with 408 when it stalls (slow-body attacks; see StallWatch).
 */
export function readBody(
  req: IncomingMessage,
  limit: number,
  watch: StallWatch,
  formField: string | undefined,
  callback: BodyCallback,
): void {
  const parsed = preParsedBody(req, formField);
  if (parsed !== undefined) {
    if (Buffer.byteLength(parsed) > limit) callback(tooLarge(limit), '');
    else callback(null, parsed);
    return;
  }
  const declared = Number(req.headers['content-length']);
  if (declared > limit) {
    callback(tooLarge(limit), '');
    return;
  }
  new BodyReader(req, limit, watch, callback);
}

function tooLarge(limit: number): BodyError {
  return new BodyError(`request body larger than ${limit} bytes`, 'ERR_SOCKJS_BODY_TOO_LARGE');
}
