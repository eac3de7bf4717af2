import type { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NormalizedOptions } from './options';
import type { Connection } from './session/connection';
import { Session, type SessionHost } from './session/session';
import { SessionStore } from './session/store';
import type { Receiver } from './transports/receiver';
import { setJsessionid } from './http/cookie';

/**
 * The engine of one SockJS service: its options, its sessions, and the emitter the
 * application listens on. Transports and the router call into it; it holds no request.
 */
export class SockjsService implements SessionHost {
  readonly sessions = new SessionStore();
  readonly heartbeatDelay: number;
  readonly disconnectDelay: number;

  constructor(
    readonly options: NormalizedOptions,
    /** Emits `connection` (the Router users hold). */
    private readonly emitter: EventEmitter,
  ) {
    this.heartbeatDelay = options.heartbeatDelay;
    this.disconnectDelay = options.disconnectDelay;
  }

  /** Attaches a receiving connection to its session, creating the session if new. */
  receive(sessionId: string, prefix: string, receiver: Receiver): void {
    let session = this.sessions.get(sessionId);
    if (session === undefined) {
      session = new Session(sessionId, this, prefix);
      this.sessions.add(session as Session & { id: string });
    }
    session.attach(receiver);
  }

  /** A websocket session: its own session, in no store, alive as long as its socket. */
  receiveAlone(prefix: string, receiver: Receiver): Session {
    const session = new Session(null, this, prefix);
    session.attach(receiver);
    return session;
  }

  /** Sets the JSESSIONID cookie when the option asks for it. */
  setCookie(req: IncomingMessage, res: ServerResponse): void {
    if (this.options.jsessionid !== false) setJsessionid(this.options, req, res);
  }

  log(severity: 'debug' | 'info' | 'error', message: string): void {
    this.options.log(severity, message);
  }

  connectionOpened(connection: Connection): void {
    this.emitter.emit('connection', connection);
  }

  sessionForgotten(session: Session): void {
    this.sessions.delete(session);
  }
}
