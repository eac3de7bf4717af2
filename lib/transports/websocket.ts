import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { Receiver, ReceiverOwner } from './receiver';
import type { Session } from '../session/session';
import { closeFrame, decodeMessages, messageFrame } from '../protocol/frames';

/** Close codes a websocket close frame may carry (RFC 6455 section 7.4). */
function wireCloseCode(code: number): number {
  if (code >= 3000 && code <= 4999) return code;
  if (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) return code;
  return 1000;
}

/** What a websocket receiver reports to the service that owns it. */
export interface WebsocketHost {
  websocketGone(receiver: WebsocketReceiver): void;
  log(severity: 'debug' | 'info' | 'error', message: string): void;
}

const RECEIVER = Symbol('sockjs.receiver');
type OwnedSocket = WebSocket & { [RECEIVER]?: WebsocketReceiver };

// One set of listener functions for every socket (no closures per session); `this` is
// the socket, which points at its receiver.
function onMessage(this: OwnedSocket, data: Buffer | Buffer[] | ArrayBuffer): void {
  this[RECEIVER]?.received(data);
}
function onPong(this: OwnedSocket): void {
  const receiver = this[RECEIVER];
  if (receiver !== undefined) receiver.alive = true;
}
function onClose(this: OwnedSocket): void {
  this[RECEIVER]?.closed();
}
function onError(this: OwnedSocket, error: Error): void {
  // ws closes the socket itself after an error (bad frame, payload too large); the
  // application hears it as a close.
  this[RECEIVER]?.host.log('debug', `websocket error: ${error.message}`);
}

/**
 * A websocket as a receiver. Framed (`BASE/S/I/websocket`): every frame is one text
 * message. Raw (`BASE/websocket`): messages go out as they are, and an application close
 * becomes the websocket close code and reason.
 */
export class WebsocketReceiver implements Receiver {
  owner: ReceiverOwner | null = null;
  ended = false;
  session: Session | null = null;
  /** Answered the last ping; checked by the service's dead-peer sweep. */
  alive = true;
  readonly socket: Socket | null;
  /** The handshake request, kept only until the session has read what it needs. */
  req: IncomingMessage | null;

  constructor(
    req: IncomingMessage,
    readonly ws: WebSocket,
    readonly raw: boolean,
    readonly host: WebsocketHost,
  ) {
    this.req = req;
    this.socket = req.socket;
    (ws as OwnedSocket)[RECEIVER] = this;
    ws.on('message', onMessage);
    ws.on('pong', onPong);
    ws.on('close', onClose);
    ws.on('error', onError);
  }

  get protocol(): 'websocket' | 'websocket-raw' {
    return this.raw ? 'websocket-raw' : 'websocket';
  }

  sendFrame(frame: string): void {
    if (this.ended || this.raw) return;
    this.ws.send(frame);
  }

  sendMessages(messages: readonly string[]): void {
    if (this.ended) return;
    if (this.raw) for (const message of messages) this.ws.send(message);
    else this.ws.send(messageFrame(messages));
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

  private finish(code: number, reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.ws.close(code, Buffer.byteLength(reason) <= 123 ? reason : '');
    const owner = this.owner;
    if (owner !== null) owner.receiverDone(this);
    this.host.websocketGone(this);
  }

  /** @internal A message from the peer. */
  received(data: Buffer | Buffer[] | ArrayBuffer): void {
    const session = this.session;
    if (session === null || this.ended) return;
    const text = Array.isArray(data)
      ? Buffer.concat(data).toString('utf8')
      : Buffer.isBuffer(data)
        ? data.toString('utf8')
        : Buffer.from(data).toString('utf8');
    if (this.raw) {
      session.didMessages([text]);
      return;
    }
    if (text === '') return;
    const messages = decodeMessages(text, true);
    if (messages === null) {
      // Broken framing ends this connection at once; the reference server says 3000.
      this.ws.close(3000, 'Broken framing.');
      this.closed();
      return;
    }
    session.didMessages(messages);
  }

  /** @internal The socket closed. */
  closed(): void {
    if (!this.ended) {
      this.ended = true;
      const owner = this.owner;
      if (owner !== null) owner.receiverLost(this);
    }
    this.host.websocketGone(this);
  }
}
