import type { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { Receiver, ReceiverOwner } from '../transports/receiver';
import type { Indexed } from '../session/indexed-set';
import type { Session } from '../session/session';
import type { LogSeverity } from '../options';
import {
  HEARTBEAT_FRAME,
  OPEN_FRAME,
  closeFrame,
  decodeMessageBytes,
  messageFrame,
} from '../protocol/frames';
import { plainFrameLength, plainMessageFrame } from '../protocol/plain-frames';
import type { SharedMessage } from '../protocol/shared-message';
import { ReusedFrameBuffer } from '../protocol/reused-frame-buffer';
import { compactListeners, skipRepeatedEnds, writesFramesDirectly, type WsSocket } from '../internals';

/** Close codes a websocket close frame may carry (RFC 6455 section 7.4). */
function wireCloseCode(code: number): number {
  if (code >= 3000 && code <= 4999) return code;
  if (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) return code;
  return 1000;
}

/** What a websocket receiver reports to the endpoint that owns it. */
export interface WebsocketHost {
  /** The socket closed: ws reported its close. Called once. */
  websocketGone(receiver: WebsocketReceiver): void;
  log(severity: LogSeverity, message: string): void;
}

/**
 * What a receiver uses of a ws WebSocket. Written out rather than imported from ws, so that
 * the published declarations need no `@types/ws`; endpoint.ts hands every receiver a ws
 * WebSocket, so the compiler checks that ws still fits.
 */
export interface WebsocketPeer extends WsSocket, EventEmitter {
  readonly readyState: number;
  send(data: string | Buffer): void;
  ping(): void;
  close(code: number, reason: string): void;
  terminate(): void;
}

const RECEIVER = Symbol('sockjs.receiver');

/** WebSocket.OPEN. */
const OPEN = 1;

/**
 * An unmasked text frame holding `h` followed by an empty ping frame (RFC 6455 5.2, 5.5.2):
 * what `ws.send('h')` and `ws.ping()` write when no extension is in use.
 */
const HEARTBEAT_AND_PING = Buffer.from([0x81, 0x01, 0x68, 0x89, 0x00]);
/** The open frame `o` as an unmasked text frame: the same bytes for every session. */
const OPEN_TEXT_FRAME = Buffer.from([0x81, 0x01, 0x6f]);
type OwnedSocket = WebsocketPeer & { [RECEIVER]?: WebsocketReceiver };

// One set of listener functions for every socket (no closures per session); `this` is
// the socket, which points at its receiver.
function onMessage(this: OwnedSocket, data: Buffer | Buffer[] | ArrayBuffer): void {
  const receiver = this[RECEIVER];
  if (receiver === undefined) return;
  // A peer that talks is alive, whether or not its pong is on the way.
  receiver.pingedAt = 0;
  receiver.received(data);
}
function onPong(this: OwnedSocket): void {
  const receiver = this[RECEIVER];
  if (receiver !== undefined) receiver.pingedAt = 0;
}
function onClose(this: OwnedSocket): void {
  this[RECEIVER]?.closed();
}
function onError(this: OwnedSocket, error: Error): void {
  // ws closes the socket itself after an error (bad frame, payload too large); the
  // application hears it as a close.
  this[RECEIVER]?.host.log('debug', `websocket error: ${error.message}`);
}

/** The length of an unmasked frame's header for a payload of `length` bytes (RFC 6455 section 5.2). */
function headerLength(length: number): number {
  return length < 126 ? 2 : length < 65536 ? 4 : 10;
}

/**
 * Writes the header of an unmasked, final text frame (RFC 6455 section 5.2) into the first
 * `header` bytes of `frame`, whose payload fills the rest; returns the frame. The buffer is
 * made to the frame's size, header included: a view past spare room in front would be a
 * second Buffer object per frame (36 to 69 ns more, measured in a loop of their own).
 */
function withHeader(frame: Buffer, header: number): Buffer {
  const length = frame.length - header;
  frame[0] = 0x81;
  if (header === 2) {
    frame[1] = length;
  } else if (header === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    // The 64-bit length as two 32-bit words (Buffer has no safe 64-bit integer write).
    frame.writeUInt32BE(Math.floor(length / 0x100000000), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  return frame;
}

/** Where every websocket of the process builds its large frames. */
const largeFrames = new ReusedFrameBuffer();

/** Writes a frame that may lie in `largeFrames`, which then hears whether the socket took it whole. */
function writeFrame(socket: Socket, frame: Buffer): void {
  socket.write(frame);
  largeFrames.written(frame, socket);
}

/** A text frame carrying `text`, whose UTF-8 is `bytes` long. */
function textFrame(text: string, bytes: number, reused: ReusedFrameBuffer | null = null): Buffer {
  const header = headerLength(bytes);
  const size = header + bytes;
  const frame = reused === null ? Buffer.allocUnsafe(size) : reused.take(size);
  frame.write(text, header, 'utf8');
  return withHeader(frame, header);
}

/** A shared message's frame as a whole websocket frame: the same bytes for every socket. */
function sharedWebsocketFrame(message: SharedMessage): Buffer {
  const frame = message.frame;
  return textFrame(frame, Buffer.byteLength(frame));
}

/**
 * A websocket as a receiver. Framed (`BASE/S/I/websocket`): every frame is one text
 * message. Raw (`BASE/websocket`): messages go out as they are, and an application close
 * becomes the websocket close code and reason.
 */
export class WebsocketReceiver implements Receiver, Indexed {
  owner: ReceiverOwner | null = null;
  /** @internal Its place among its service's websockets. */
  setIndex = -1;
  ended = false;
  session: Session | null = null;
  /** When the ping still unanswered went out (ms since the epoch); 0 once the peer answered. */
  pingedAt = 0;
  /** When the last ping went out: the service's sweep pings only sockets not pinged lately. */
  lastPingAt = Date.now();
  /** Frames may be written to the socket as ready-made bytes (lib/internals.ts). */
  private readonly directFrames: boolean;

  constructor(
    readonly socket: Socket | null,
    readonly ws: WebsocketPeer,
    readonly raw: boolean,
    readonly host: WebsocketHost,
  ) {
    this.directFrames = writesFramesDirectly(ws);
    (ws as OwnedSocket)[RECEIVER] = this;
    compactListeners(ws);
    ws.on('message', onMessage);
    ws.on('pong', onPong);
    ws.on('close', onClose);
    ws.on('error', onError);
    skipRepeatedEnds(ws, this.socket);
  }

  get protocol(): 'websocket' | 'websocket-raw' {
    return this.raw ? 'websocket-raw' : 'websocket';
  }

  sendFrame(frame: string): void {
    if (this.ended || this.raw) return;
    this.sendText(frame);
  }

  /**
   * The heartbeat frame and a ping to check the peer leave in one write (one syscall, not
   * two); while an earlier ping is unanswered the sweep judges the peer, and only the frame
   * goes out.
   */
  sendHeartbeat(): void {
    if (this.ended || this.raw) return;
    if (this.pingedAt !== 0) {
      this.sendText(HEARTBEAT_FRAME);
      return;
    }
    const socket = this.socket;
    if (socket !== null && this.writesDirectly()) {
      // Ready-made bytes: no framing work per heartbeat.
      this.pinged(Date.now());
      socket.write(HEARTBEAT_AND_PING);
      return;
    }
    socket?.cork();
    this.ws.send(HEARTBEAT_FRAME);
    this.ping(Date.now());
    socket?.uncork();
  }

  /** Pings the peer, while its websocket is open; an answer clears `pingedAt`. */
  ping(now: number): void {
    if (this.ws.readyState !== OPEN) return;
    this.pinged(now);
    this.ws.ping();
  }

  private pinged(now: number): void {
    this.pingedAt = now;
    this.lastPingAt = now;
  }

  /** Frames go straight to the socket now: allowed, and the websocket is open. */
  private writesDirectly(): boolean {
    return this.directFrames && this.ws.readyState === OPEN;
  }

  sendMessages(messages: readonly string[], bytes: number): void {
    if (this.ended) return;
    if (this.raw) {
      for (const message of messages) this.ws.send(message);
      return;
    }
    const socket = this.socket;
    if (socket !== null && this.writesDirectly()) {
      // Plain ASCII messages (nothing to escape) become the frame's bytes in one pass; were
      // they not plain, the frame is not made and the header goes unused.
      const header = headerLength(plainFrameLength(messages.length, bytes));
      const frame = plainMessageFrame(messages, bytes, header, '', largeFrames);
      if (frame !== null) {
        writeFrame(socket, withHeader(frame, header));
        return;
      }
    }
    this.sendText(messageFrame(messages));
  }

  /** A message many sockets send: framed once, and the same bytes written to each. */
  sendShared(message: SharedMessage): void {
    if (this.ended) return;
    if (this.raw) {
      this.ws.send(message.text);
      return;
    }
    const socket = this.socket;
    if (socket !== null && this.writesDirectly()) socket.write(message.encoded(sharedWebsocketFrame));
    else this.ws.send(message.frame);
  }

  /**
   * One text frame, built here and written with one call: cheaper than ws's
   * header-plus-payload write. A small one takes Node's pool, a large one the buffer large
   * frames share (`ReusedFrameBuffer.take` decides).
   */
  private sendText(text: string): void {
    const socket = this.socket;
    if (socket === null || !this.writesDirectly()) this.ws.send(text);
    else if (text === OPEN_FRAME) socket.write(OPEN_TEXT_FRAME);
    else writeFrame(socket, textFrame(text, Buffer.byteLength(text), largeFrames));
  }

  sendClose(code: number, reason: string): void {
    if (this.ended) return;
    if (!this.raw) this.ws.send(closeFrame(code, reason));
    this.finish(wireCloseCode(code), reason);
  }

  end(): void {
    this.finish(1000, 'Normal closure');
  }

  /** Closes a peer that stopped answering pings. */
  terminate(): void {
    this.ws.terminate();
  }

  destroy(): void {
    this.ended = true;
    this.ws.terminate();
  }

  /** Starts the close handshake; the socket's close comes later (closed()). */
  private finish(code: number, reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.ws.close(code, Buffer.byteLength(reason) <= 123 ? reason : '');
    const owner = this.owner;
    if (owner !== null) owner.receiverDone(this);
  }

  /** @internal A message from the peer. */
  received(data: Buffer | Buffer[] | ArrayBuffer): void {
    const session = this.session;
    if (session === null || this.ended) return;
    const bytes = Buffer.isBuffer(data)
      ? data
      : Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.from(data);
    if (this.raw) {
      session.didMessages([bytes.toString('utf8')]);
      return;
    }
    if (bytes.length === 0) return;
    const messages = decodeMessageBytes(bytes, true);
    if (messages === null) {
      // Broken framing ends this connection at once; the reference server says 3000.
      this.ws.close(3000, 'Broken framing.');
      this.lost();
      return;
    }
    session.didMessages(messages);
  }

  /** The connection is over for the session (the socket may still be closing). */
  private lost(): void {
    if (this.ended) return;
    this.ended = true;
    const owner = this.owner;
    if (owner !== null) owner.receiverLost(this);
  }

  /** @internal ws reported the socket closed. */
  closed(): void {
    this.lost();
    this.host.websocketGone(this);
  }
}
