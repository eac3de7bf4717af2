/** What a lifetime may do to a session. */
export interface LifetimeSubject {
  /** Waits `disconnectDelay` for a new receiver, then closes and forgets the session. */
  expireLater(): void;
  /** Closes the session now (as interrupted unless it already has a close frame). */
  endNow(): void;
  /** Forgets the session: its id is free again and it no longer counts. */
  forget(): void;
}

/**
 * How long a session is kept once its receiver is gone: the one rule that differs between
 * sessions of HTTP transports and websocket sessions (PROTOCOL.md sections 4 and 6).
 */
export interface SessionLifetime {
  /** Its receiver ended, was cut, or took the close frame. */
  released(session: LifetimeSubject): void;
  /** Server shutdown, once the session has delivered its close. */
  shutDown(session: LifetimeSubject): void;
}

/**
 * HTTP sessions outlive their requests: a new poll may come within `disconnectDelay`, and
 * a closed session answers later polls with its close frame until then.
 */
export const UNTIL_DISCONNECT_DELAY: SessionLifetime = Object.freeze({
  released(session: LifetimeSubject): void {
    session.expireLater();
  },
  shutDown(session: LifetimeSubject): void {
    session.forget();
  },
});

/**
 * A websocket session lives exactly as long as its socket: it closes with its one receiver,
 * and is forgotten when ws reports the socket closed (the websocket endpoint says so), so
 * that it counts, and `close()` waits for it, until the close handshake is over.
 */
export const WHILE_SOCKET_LIVES: SessionLifetime = Object.freeze({
  released(session: LifetimeSubject): void {
    session.endNow();
  },
  shutDown(): void {
    // Forgotten when the socket closes.
  },
});
