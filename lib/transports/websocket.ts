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

  constructor(
    readonly req: IncomingMessage,
    readonly ws: WebSocket,
    readonly raw: boolean,
    private readonly onGone: (receiver: WebsocketReceiver) => void,
  ) {
    this.socket = req.socket;
    ws.on('message', (data, isBinary) => this.received(data as Buffer | Buffer[] | ArrayBuffer, isBinary));
    ws.on('pong', () => {
      this.alive = true;
    });
    ws.on('close', () => this.closed());
    ws.on('error', () => {
      // ws closes the socket itself after an error (bad frame, payload too large); the
      // application hears it as a close.
    });
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
    this.onGone(this);
  }

  private received(data: Buffer | Buffer[] | ArrayBuffer, _isBinary: boolean): void {
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

  private closed(): void {
    if (!this.ended) {
      this.ended = true;
      const owner = this.owner;
      if (owner !== null) owner.receiverLost(this);
    }
    this.onGone(this);
  }
}
