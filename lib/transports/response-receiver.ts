import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { NO_CACHE, cors } from '../http/headers';
import { messageFrame } from '../protocol/frames';
import { plainMessageFrame } from '../protocol/plain-frames';
import type { SharedEncoding, SharedMessage } from '../protocol/shared-message';
import type { ConnectionProtocol, Receiver, ReceiverOwner } from './receiver';

/** TCP keep-alive probes on long-held requests find peers that vanished without a FIN. */
const TCP_KEEPALIVE_MS = 5000;

function cutEarlier(receiver: ResponseReceiver): void {
  receiver.reportLost();
}

/** A shared message's frame followed by a format's plain suffix, as bytes; one per suffix. */
const suffixedFrames = new Map<string, SharedEncoding<Buffer>>();
function suffixedFrame(suffix: string): SharedEncoding<Buffer> {
  let encoding = suffixedFrames.get(suffix);
  if (encoding === undefined) {
    encoding = (message) => Buffer.from(message.frame + suffix);
    suffixedFrames.set(suffix, encoding);
  }
  return encoding;
}

/** How one receiving HTTP transport puts frames on the wire. */
export interface ResponseFormat {
  readonly protocol: ConnectionProtocol;
  /** Frames until `responseLimit` bytes (true), or one frame per response (polling). */
  readonly streaming: boolean;
  /** Takes the htmlfile/jsonp `c` parameter: the name of the function frames are passed to. */
  readonly takesCallback: boolean;
  readonly contentType: string;
  /** Whether the transport answers cross-origin requests itself (CORS headers). */
  readonly cors: boolean;
  /** Text right after the headers, before any frame (streaming transports). */
  prelude(callback: string): string;
  /** One frame as written on the wire. */
  frame(frame: string, callback: string): string;
  /**
   * Set when `frame()` writes the frame as it is followed by this text: then plain ASCII
   * messages are framed straight into bytes (protocol/plain-frames.ts).
   */
  readonly plainSuffix?: string;
}

/**
 * A receiving HTTP response. A ResponseFormat says how a frame is written; this class owns
 * the byte budget (`responseLimit`; 1 for polling, so one frame per response) and tells a
 * cut connection (client abort) from a normal end.
 */
export class ResponseReceiver implements Receiver {
  owner: ReceiverOwner | null = null;
  ended = false;
  readonly socket: Socket | null;
  readonly protocol: ConnectionProtocol;
  private budget: number;
  private started = false;
  private readonly withCors: boolean;

  constructor(
    private readonly req: IncomingMessage,
    readonly res: ServerResponse,
    private readonly format: ResponseFormat,
    /** The byte budget: `responseLimit` when streaming, 1 when polling (one frame). */
    readonly limit: number,
    disableCors: boolean,
    /** htmlfile and jsonp callback name, validated. */
    readonly callback = '',
  ) {
    this.protocol = format.protocol;
    this.withCors = format.cors && !disableCors;
    this.budget = limit;
    this.socket = req.socket;
    if (this.socket && limit > 1) this.socket.setKeepAlive(true, TCP_KEEPALIVE_MS);
    // The socket alone says whether the request was cut: destroying a response destroys
    // its socket, and under Express each property read of the response is a slow lookup.
    if (this.socket === null || this.socket.destroyed) {
      // Cut while the request waited (middleware, a relay's round trip): its 'close' has
      // come and gone. Nothing is written to it (a poll would count its frame as delivered),
      // and its session hears of the loss once it has attached it.
      this.ended = true;
      process.nextTick(cutEarlier, this);
    } else {
      // A closure, not a shared listener finding its receiver through a property of `res`:
      // under Express every response has a hidden class of its own (its prototype is set per
      // request), and adding a property copies it. Node emits 'close' once the response has
      // ended or its connection was cut, whichever comes first.
      res.on('close', () => this.responseClosed());
    }
  }

  sendFrame(frame: string): void {
    if (this.ended) return;
    const data = this.format.frame(frame, this.callback);
    this.write(data, Buffer.byteLength(data));
  }

  sendMessages(messages: readonly string[], bytes: number): void {
    if (this.ended) return;
    const suffix = this.bytesSuffix();
    const data = suffix === undefined ? null : plainMessageFrame(messages, bytes, 0, suffix);
    if (data === null) this.sendFrame(messageFrame(messages));
    else this.write(data, data.length);
  }

  /**
   * A message many sessions send: its `a[...]` frame is encoded once for them all, and
   * where the format only appends a suffix to it, so are its bytes on the wire.
   */
  sendShared(message: SharedMessage): void {
    if (this.ended) return;
    const suffix = this.bytesSuffix();
    if (suffix === undefined) {
      this.sendFrame(message.frame);
      return;
    }
    const data = message.encoded(suffixedFrame(suffix));
    this.write(data, data.length);
  }

  /**
   * The format's plain suffix once the response has started; undefined before, when the
   * frame is a poll's whole answer: as text Node sends it in one write with the head, where
   * bytes would go as a chunk of their own after it.
   */
  private bytesSuffix(): string | undefined {
    return this.started ? this.format.plainSuffix : undefined;
  }

  /** Writes one frame, `size` bytes, as a response of its own or as a chunk of the stream. */
  private write(data: string | Buffer, size: number): void {
    this.budget -= size;
    if (!this.started && this.budget <= 0) {
      // A poll: the whole answer is this frame, sent with Content-Length.
      this.started = true;
      this.ended = true;
      const headers = this.headers();
      headers['Content-Length'] = size;
      this.res.writeHead(200, headers);
      this.res.end(data);
      this.notifyDone();
      return;
    }
    this.open();
    // Each frame is its own write, so its own chunk: clients may read chunk by chunk.
    this.res.write(data);
    if (this.budget <= 0) this.end();
  }

  /**
   * Writes headers and prelude now, before any frame: streaming transports call it at once
   * so proxies and browsers see the response start.
   */
  open(): void {
    if (this.started || this.ended) return;
    this.started = true;
    this.res.writeHead(200, this.headers());
    const prelude = this.format.prelude(this.callback);
    if (prelude !== '') this.res.write(prelude);
    else this.res.flushHeaders();
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (!this.res.writableEnded) {
      if (!this.started) {
        this.started = true;
        this.res.writeHead(200, this.headers());
      }
      this.res.end();
    }
    this.notifyDone();
  }

  destroy(): void {
    this.ended = true;
    this.res.destroy();
  }

  private headers(): OutgoingHttpHeaders {
    const headers: OutgoingHttpHeaders = {
      'Content-Type': this.format.contentType,
      'Cache-Control': NO_CACHE,
    };
    if (this.format.protocol === 'jsonp-polling') headers['X-Content-Type-Options'] = 'nosniff';
    return this.withCors ? cors(this.req, headers) : headers;
  }

  private notifyDone(): void {
    const owner = this.owner;
    if (owner !== null) owner.receiverDone(this);
  }

  /** @internal The response is over: ended by us (nothing to do) or by the network (abort). */
  responseClosed(): void {
    if (this.ended) return;
    this.ended = true;
    this.reportLost();
  }

  /** @internal Tells the session its client went away: the session closes as interrupted. */
  reportLost(): void {
    const owner = this.owner;
    if (owner !== null) owner.receiverLost(this);
  }
}
