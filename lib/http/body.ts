import type { IncomingMessage } from 'node:http';

/** A request body that could not be read; `status` is the HTTP answer. */
export class BodyError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: 'ERR_SOCKJS_BODY_TOO_LARGE' | 'ERR_SOCKJS_BODY_ABORTED' | 'ERR_SOCKJS_BODY_TIMEOUT',
  ) {
    super(message);
    this.name = 'BodyError';
  }
}

/** What body-parser style middleware (express.json/text/raw/urlencoded) leaves on req. */
interface ParsedRequest extends IncomingMessage {
  body?: unknown;
  _body?: boolean;
}

/**
 * The body as another middleware already parsed it, turned back into text; undefined when
 * the stream is still ours to read. `formField` picks a field of an urlencoded form.
 */
function preParsedBody(req: ParsedRequest, formField: string | undefined): string | undefined {
  if (req._body !== true && !req.readableEnded) return undefined;
  const body = req.body;
  if (body === undefined || body === null) return '';
  if (typeof body === 'string') return body;
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  if (Array.isArray(body)) return JSON.stringify(body);
  if (typeof body === 'object') {
    if (formField !== undefined) {
      const field = (body as Record<string, unknown>)[formField];
      return typeof field === 'string' ? `${formField}=${encodeURIComponent(field)}` : '';
    }
    return Object.keys(body).length === 0 ? '' : JSON.stringify(body);
  }
  return String(body);
}

/**
 * Reads a request body as UTF-8 text, refusing it with 413 as soon as it passes `limit`
 * bytes (checked on Content-Length and again chunk by chunk, so nothing large is buffered)
 * and with 408 when no byte arrives for `timeoutMs` (slow-body attacks).
 */
export function readBody(
  req: IncomingMessage,
  limit: number,
  timeoutMs: number,
  formField: string | undefined,
  callback: (error: BodyError | null, body: string) => void,
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
  const chunks: Buffer[] = [];
  let size = 0;
  let done = false;
  const timer = setTimeout(() => {
    finish(new BodyError(`request body stalled for ${timeoutMs} ms`, 408, 'ERR_SOCKJS_BODY_TIMEOUT'));
  }, timeoutMs);
  const finish = (error: BodyError | null): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    req.removeListener('data', onData);
    req.removeListener('end', onEnd);
    req.removeListener('error', onError);
    req.removeListener('close', onClose);
    if (error) callback(error, '');
    else
      callback(
        null,
        chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks, size).toString('utf8'),
      );
  };
  const onData = (chunk: Buffer): void => {
    timer.refresh();
    size += chunk.length;
    if (size > limit) {
      finish(tooLarge(limit));
      return;
    }
    chunks.push(chunk);
  };
  const onEnd = (): void => finish(null);
  const onError = (): void => finish(new BodyError('request body aborted', 400, 'ERR_SOCKJS_BODY_ABORTED'));
  const onClose = (): void => {
    if (!req.complete) onError();
  };
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('error', onError);
  req.on('close', onClose);
}

function tooLarge(limit: number): BodyError {
  return new BodyError(`request body larger than ${limit} bytes`, 413, 'ERR_SOCKJS_BODY_TOO_LARGE');
}
