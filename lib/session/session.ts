import type { IncomingMessage } from 'node:http';
import type { ConnectionProtocol, Receiver, ReceiverOwner } from '../transports/receiver';
import {
  ANOTHER_CONNECTION_FRAME,
  HEARTBEAT_FRAME,
  INTERRUPTED_FRAME,
  OPEN_FRAME,
  closeFrame,
  messageFrame,
} from '../protocol/frames';
import type { SharedMessage } from '../protocol/shared-message';
import { Connection, type ConnectionSession } from './connection';
import { ReadyState } from './ready-state';
import type { TrafficCounters } from './traffic';
import type { SessionClock } from './clock';
import type { LogSeverity } from '../options';
import type { Indexed } from './indexed-set';
import type { LifetimeSubject, SessionLifetime } from './lifetime';
import type { FlushList } from './flush-list';
import type { RepeatedMessage } from './repeated-message';

/** What a session needs from the service that owns it. */
export interface SessionHost {
  readonly heartbeatDelay: number;
  readonly disconnectDelay: number;
  readonly traffic: TrafficCounters;
  readonly clock: SessionClock;
  readonly maxQueuedBytes: number;
  readonly highWaterMark: number;
  /** Sessions with messages queued in this tick, flushed together. */
  readonly flushes: FlushList;
  /** The message sessions flushed alone last, shared when the next session sends it too. */
  readonly repeated: RepeatedMessage;
  /** Announces a new connection to the application. */
  connectionOpened(connection: Connection): void;
  /** The service's `log` option. */
  log(severity: LogSeverity, message: string): void;
  /** Forgets a session: its id may be used again, and it no longer counts. */
  sessionForgotten(session: Session): void;
}

/** Log lines made once per transport: most log functions drop debug lines, and every session ends. */
const connectionGoneLines: Partial<Record<ConnectionProtocol, string>> = {};
function connectionGone(protocol: ConnectionProtocol): string {
  return (connectionGoneLines[protocol] ??=
    `${protocol} connection gone (client closed or network cut); its session closes`);
}

/**
 * One SockJS session: the state machine of PROTOCOL.md section 6. It outlives single HTTP
 * requests: receivers (polls, streams, websockets) attach and detach; messages the
 * application writes meanwhile wait in `queue`.
 *
 * One deadline per session at a time: a heartbeat deadline while a receiver is attached, a
 * disconnect deadline while none is. The service's SessionClock checks them all with one
 * timer, so writing a frame only moves a number.
 */
export class Session implements ReceiverOwner, ConnectionSession, LifetimeSubject, Indexed {
  readyState: ReadyState = ReadyState.CONNECTING;
  receiver: Receiver | null = null;
  readonly connection: Connection;
  private queue: string[] = [];
  /** The shared message `queue` began with; its encoding serves while it is alone there. */
  private queuedShared: SharedMessage | null = null;
  private flushScheduled = false;
  /** Set once the session ends; every later receiver gets it (not 2010). */
  private closingFrame: string | null = null;
  private closeCode = 1000;
  private closeReason = '';
  /** @internal Its place in its registry. */
  setIndex = -1;
  /** When the pending heartbeat or disconnect is due (ms since the epoch); 0 when none. */
  deadline = 0;
  /** @internal Where the service's SessionClock filed this session; the clock's alone. */
  clockSlot = 0;
  /** @internal */
  clockPrev: Session | null = null;
  /** @internal */
  clockNext: Session | null = null;
  private timerIsHeartbeat = false;
  /** The application has seen `connection`; only then does it get `close`. */
  private announced = false;
  /** Bytes of `queue`. */
  private queuedBytes = 0;
  /** write() returned false; `drain` is owed. */
  private needDrain = false;
  private drainListening = false;

  /**
   * @param id the session id from the URL (a websocket session is found by its socket, never
   *   by its id)
   */
  constructor(
    readonly id: string,
    private readonly host: SessionHost,
    prefix: string,
    private readonly lifetime: SessionLifetime,
  ) {
    this.connection = new Connection(this, prefix);
  }

  /**
   * A receiving connection arrives for this session. `req` is the request that brought it,
   * and `locals` the `res.locals` its middleware filled (null when no app ran): they describe
   * the connection when the session is new.
   */
  attach(receiver: Receiver, req: IncomingMessage | null, locals: object | null): void {
    if (this.receiver !== null) {
      receiver.sendFrame(ANOTHER_CONNECTION_FRAME);
      receiver.end();
      return;
    }
    this.clearTimer();
    if (this.closingFrame !== null) {
      this.deliverClose(receiver);
      return;
    }
    this.receiver = receiver;
    receiver.owner = this;
    if (this.readyState === ReadyState.CONNECTING) {
      this.connection.describe(receiver.protocol, req, receiver.socket, locals);
      this.readyState = ReadyState.OPEN;
      receiver.sendFrame(OPEN_FRAME);
      process.nextTick(emitConnection, this);
      if (this.receiver !== receiver) return;
    }
    if (this.queue.length > 0) this.flush(Date.now());
    if (this.receiver === receiver) this.startTimer(true);
  }

  /** Messages from the client, in order. */
  didMessages(messages: readonly string[]): void {
    for (const message of messages) {
      if (this.readyState !== ReadyState.OPEN) return;
      this.host.traffic.received(message);
      this.connection.deliver(message);
    }
  }

  /**
   * Queues a message; frames written in one tick go out together in one `a[...]`.
   * Returns false above the high water mark (`drain` follows) or when the message was
   * dropped (session not open, or closed because the client stopped reading).
   */
  send(message: string): boolean {
    if (this.readyState !== ReadyState.OPEN) return false;
    this.queue.push(message);
    return this.queued(this.host.traffic.sent(message));
  }

  /** `send()` for a message many sessions send at once (a broker's publish). */
  sendShared(message: SharedMessage): boolean {
    if (this.readyState !== ReadyState.OPEN) return false;
    if (this.queue.length === 0) this.queuedShared = message;
    this.queue.push(message.text);
    return this.queued(this.host.traffic.sentBytes(message.bytes));
  }

  /** Counts `bytes` more in the queue; what `send()` returns. */
  private queued(bytes: number): boolean {
    this.queuedBytes += bytes;
    const pending = this.queuedBytes + this.socketBacklog();
    if (pending > this.host.maxQueuedBytes) {
      this.overflow();
      return false;
    }
    if (this.receiver !== null && !this.flushScheduled) {
      this.flushScheduled = true;
      this.host.flushes.add(this);
    }
    if (pending > this.host.highWaterMark) {
      this.needDrain = true;
      return false;
    }
    return true;
  }

  /** Sends what is queued; the heartbeat is due `heartbeatDelay` after `now`. */
  flush(now: number): void {
    this.flushScheduled = false;
    const receiver = this.receiver;
    if (receiver === null || this.queue.length === 0) return;
    this.sendQueue(receiver);
    if (this.receiver === receiver && this.deadline !== 0) this.deadline = now + this.host.heartbeatDelay;
    if (this.needDrain) this.checkDrain();
  }

  /** Bytes handed to the current receiver's socket and not yet sent. */
  private socketBacklog(): number {
    const socket = this.receiver?.socket;
    return socket ? socket.writableLength : 0;
  }

  /** Everything queued, to `receiver` as one frame; framed by the receiver where it can. */
  private sendQueue(receiver: Receiver): void {
    const shared = this.queue.length === 1 ? this.sharedAlone(receiver) : null;
    if (shared === null) {
      const bytes = this.queuedBytes;
      const messages = this.takeQueue();
      if (receiver.sendMessages !== undefined) receiver.sendMessages(messages, bytes);
      else receiver.sendFrame(messageFrame(messages));
      return;
    }
    // The queue array is not handed on: kept for the next message, not made anew. Its one
    // message is popped: setting the length goes through V8's runtime, several times dearer.
    this.queue.pop();
    this.queuedShared = null;
    this.queuedBytes = 0;
    receiver.sendShared?.(shared);
  }

  /**
   * The one message queued as a SharedMessage, when `receiver` takes those: the broker's, or
   * the one the session before sent too (a loop of `conn.write()` over many connections).
   */
  private sharedAlone(receiver: Receiver): SharedMessage | null {
    if (receiver.sendShared === undefined) return null;
    return this.queuedShared ?? this.host.repeated.sharedFor(this.queue[0]);
  }

  private takeQueue(): string[] {
    const messages = this.queue;
    this.queue = [];
    this.queuedShared = null;
    this.queuedBytes = 0;
    return messages;
  }

  /** Emits `drain` once what the application wrote has left for the client. */
  checkDrain(): void {
    if (!this.needDrain || this.readyState !== ReadyState.OPEN) return;
    const socket = this.receiver?.socket;
    if (this.queuedBytes + this.socketBacklog() > this.host.highWaterMark) {
      if (socket && !this.drainListening) {
        this.drainListening = true;
        socket.once('drain', () => {
          this.drainListening = false;
          this.checkDrain();
        });
      }
      return;
    }
    this.needDrain = false;
    this.connection.emit('drain');
  }

  /** The client stopped reading: drop what is queued and cut its connection. */
  private overflow(): void {
    this.takeQueue();
    this.closeWith(1013, 'Client not reading');
    const receiver = this.receiver;
    if (receiver !== null) {
      this.detach(receiver);
      receiver.destroy();
    }
    this.finish();
    this.lifetime.released(this);
  }

  /** Records the close every later receiver gets; the first one set stays. */
  private closeWith(code: number, reason: string, frame?: string): void {
    if (this.closingFrame !== null) return;
    this.closingFrame = frame ?? closeFrame(code, reason);
    this.closeCode = code;
    this.closeReason = reason;
  }

  /** The application closes the session. */
  close(code: number, reason: string): boolean {
    if (this.readyState !== ReadyState.OPEN) return false;
    this.readyState = ReadyState.CLOSING;
    this.closeWith(code, reason);
    const receiver = this.receiver;
    if (receiver !== null) {
      this.detach(receiver);
      this.deliverClose(receiver);
    }
    return true;
  }

  /**
   * Server shutdown: what is queued and the close frame go to the attached receiver, which
   * is ended; the application hears `close`; the session is forgotten at once.
   */
  shutdown(code: number, reason: string): void {
    if (this.readyState !== ReadyState.CLOSED) {
      this.closeWith(code, reason);
      if (this.readyState !== ReadyState.CLOSING) this.readyState = ReadyState.CLOSING;
      const receiver = this.receiver;
      if (receiver !== null) {
        this.detach(receiver);
        this.deliverClose(receiver);
      }
      this.finish();
    }
    this.lifetime.shutDown(this);
  }

  receiverDone(receiver: Receiver): void {
    if (this.receiver !== receiver) return;
    this.detach(receiver);
    this.lifetime.released(this);
  }

  receiverLost(receiver: Receiver): void {
    if (this.receiver === receiver) this.detach(receiver);
    if (this.readyState === ReadyState.OPEN) this.host.log('debug', connectionGone(receiver.protocol));
    this.endNow();
    // For a websocket session this is endNow() again, which does nothing a second time.
    this.lifetime.released(this);
  }

  /** @internal Closes the session now, as interrupted unless it already has its close. */
  endNow(): void {
    this.closeWith(1002, 'Connection interrupted', INTERRUPTED_FRAME);
    this.takeQueue();
    this.finish();
  }

  /** @internal Waits `disconnectDelay` for another receiver (or to answer with the close frame). */
  expireLater(): void {
    this.startTimer(false);
  }

  /** Called by the SessionClock once `deadline` has passed. */
  timerFired(): void {
    if (this.timerIsHeartbeat) {
      const receiver = this.receiver;
      if (receiver === null) {
        this.clearTimer();
        return;
      }
      const deadline = this.deadline;
      if (receiver.sendHeartbeat !== undefined) receiver.sendHeartbeat();
      else receiver.sendFrame(HEARTBEAT_FRAME);
      if (this.receiver === receiver && this.deadline === deadline) {
        this.deadline = Date.now() + this.host.heartbeatDelay;
      }
      return;
    }
    this.clearTimer();
    this.finish();
    this.forget();
  }

  private deliverClose(receiver: Receiver): void {
    if (this.queue.length > 0) this.sendQueue(receiver);
    const delivered = !receiver.ended;
    if (delivered && receiver.sendClose !== undefined) {
      receiver.sendClose(this.closeCode, this.closeReason);
    } else {
      if (delivered) receiver.sendFrame(this.closingFrame as string);
      receiver.end();
    }
    if (delivered && this.readyState === ReadyState.CLOSING) this.finish();
    this.lifetime.released(this);
  }

  private detach(receiver: Receiver): void {
    receiver.owner = null;
    this.receiver = null;
    this.clearTimer();
  }

  /** Emits `close` to the application, exactly once. */
  private finish(): void {
    if (this.readyState === ReadyState.CLOSED) return;
    this.readyState = ReadyState.CLOSED;
    if (this.announced) this.connection.closed();
  }

  /** @internal Forgets the session (its lifetime says when). */
  forget(): void {
    this.clearTimer();
    this.host.sessionForgotten(this);
  }

  private startTimer(heartbeat: boolean): void {
    this.timerIsHeartbeat = heartbeat;
    this.deadline = Date.now() + (heartbeat ? this.host.heartbeatDelay : this.host.disconnectDelay);
    // Files it, or files it earlier when a disconnect deadline replaced a later heartbeat.
    this.host.clock.add(this);
  }

  private clearTimer(): void {
    this.deadline = 0;
    this.host.clock.delete(this);
  }

  /** @internal */
  announce(): void {
    if (this.readyState === ReadyState.CLOSED) return;
    this.announced = true;
    this.host.connectionOpened(this.connection);
  }
}

function emitConnection(session: Session): void {
  session.announce();
}
