import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { TEXT_PLAIN, sendText } from './respond';

/**
 * How much of a refused body is read and thrown away after its answer. A socket closed with
 * unread bytes in its receive buffer sends a reset (RFC 1122 section 4.2.2.13), and a client
 * still sending its body then sees ECONNRESET or EPIPE instead of the answer. Discarding
 * costs no memory and less CPU than reading a body that is accepted, so the bound is
 * generous: an 8 MiB upload against the 1 MiB default `maxBodySize` still hears its 413.
 * Beyond it, or past `DISCARD_MS`, the connection is cut.
 */
export const DISCARD_LIMIT = 8 * 1024 * 1024;
/** How long a refused body may keep arriving after its answer. */
export const DISCARD_MS = 5000;

/**
 * Answers a request whose body is refused (413, 408) with `Connection: close`, then reads
 * and discards the rest of the body, so that the socket closes cleanly once the client has
 * sent it all and the client reads the answer. A body that goes on past `DISCARD_LIMIT`
 * bytes (or announces more) or past `DISCARD_MS` gets its connection cut.
 */
export function answerRefusedBody(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  answer: string,
  headers: OutgoingHttpHeaders,
): void {
  headers['Connection'] = 'close';
  const declared = Number(req.headers['content-length']);
  if (req.complete || req.destroyed || res.headersSent || declared > DISCARD_LIMIT) {
    // Nothing left to read, or too much to wait for: Node closes after the answer.
    sendText(res, status, answer, headers);
    return;
  }
  headers['Content-Type'] = TEXT_PLAIN;
  headers['Content-Length'] = Buffer.byteLength(answer);
  res.writeHead(status, headers);
  // The whole answer goes out now; the response ends (and the socket with it) once the body
  // has been read.
  res.write(answer);
  new BodyDiscard(req, res);
}

/** The rest of one refused body, read and dropped. */
class BodyDiscard {
  private discarded = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly onData = (chunk: Buffer): void => this.data(chunk);
  private readonly onEnd = (): void => this.stop(false);
  private readonly onGone = (): void => this.stop(true);

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
  ) {
    this.timer = setTimeout(this.onGone, DISCARD_MS);
    req.on('data', this.onData);
    req.on('end', this.onEnd);
    req.on('error', this.onGone);
    res.on('close', this.onGone);
    req.resume();
  }

  private data(chunk: Buffer): void {
    this.discarded += chunk.length;
    if (this.discarded > DISCARD_LIMIT) this.stop(true);
  }

  /** Ends the response: cleanly once the body is all read, or by cutting the connection. */
  private stop(cut: boolean): void {
    clearTimeout(this.timer);
    const { req, res } = this;
    req.removeListener('data', this.onData);
    req.removeListener('end', this.onEnd);
    req.removeListener('error', this.onGone);
    res.removeListener('close', this.onGone);
    if (cut) res.destroy();
    else res.end();
  }
}
