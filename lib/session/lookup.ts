import type { IncomingMessage } from 'node:http';
import type { Receiver } from '../transports/receiver';
import type { Session } from './session';
import type { SessionRefusal, SessionRegistry } from './registry';

/** A session another process holds, as this process reaches it. */
export interface RemoteSession {
  /**
   * Serves a receiving response of this process with the remote session's frames.
   * `openHere` opens a new session in this process for the request instead and attaches
   * the receiver to it (when the holder turns out to be gone); false when it was refused.
   */
  receive(receiver: Receiver & RelayedShape, openHere: () => boolean): void;
  /** A send's messages: `done(true)` once the holder took them, `done(false)` when it holds no such session. */
  deliver(messages: readonly string[], done: (taken: boolean) => void): void;
}

/** What the holder of a session needs to frame a response it does not hold. */
export interface RelayedShape {
  /** htmlfile and jsonp callback name; '' for the others. */
  readonly callback: string;
  /** The response's byte budget: `responseLimit` when streaming, 1 when polling. */
  readonly limit: number;
}

/**
 * Finds the sessions other processes hold (sockjs-express/redis). Asked only about session
 * ids this process does not hold.
 */
export interface SessionRelay {
  /**
   * A receiving request: the session's holder elsewhere, or null when nobody holds it. Null
   * claims the id for this process: the caller opens the session here, then says opened().
   */
  claim(prefix: string, id: string, found: (holder: RemoteSession | null) => void): void;
  /** A send request: the session's holder elsewhere, or null. */
  find(prefix: string, id: string, found: (holder: RemoteSession | null) => void): void;
  /** After a claim: the session opened here, or null when it could not open (the claim goes back). */
  opened(prefix: string, id: string, session: Session | null): void;
  /** A session of this process is forgotten: its id is free again. */
  forgotten(prefix: string, id: string): void;
}

/**
 * Where the session of a request is: here, held by another process, or nobody's. Without a
 * relay every answer comes at once and "elsewhere" never.
 */
export class SessionLookup {
  #relay: SessionRelay | null = null;

  constructor(private readonly registry: SessionRegistry) {
    registry.watch({
      forgotten: (session) => this.#relay?.forgotten(session.connection.prefix, session.id),
    });
  }

  /** Finds the sessions other processes hold through `relay` (null: this process alone). */
  useRelay(relay: SessionRelay | null): void {
    this.#relay = relay;
  }

  /** The relay sessions of other processes are found through, if any. */
  get relay(): SessionRelay | null {
    return this.#relay;
  }

  /** The session this process holds with this id. */
  here(id: string): Session | undefined {
    return this.registry.get(id);
  }

  /** Whether a send for `id` could find its session: held here, or perhaps elsewhere. */
  mayExist(id: string): boolean {
    return this.#relay !== null || this.registry.get(id) !== undefined;
  }

  /**
   * A receiving request for a session not held here: its holder, or null when nobody holds
   * it and the caller opens it here with open().
   */
  locateForReceiving(prefix: string, id: string, found: (holder: RemoteSession | null) => void): void {
    if (this.#relay === null) found(null);
    else this.#relay.claim(prefix, id, found);
  }

  /** A send request for a session not held here: its holder, or null. */
  locateForSending(prefix: string, id: string, found: (holder: RemoteSession | null) => void): void {
    if (this.#relay === null) found(null);
    else this.#relay.find(prefix, id, found);
  }

  /**
   * The session with this id, opened here for the receiving request `opener` if this process
   * does not hold it; or why it may not open. A relay hears the outcome (it settles a claim).
   */
  open(id: string, prefix: string, opener: IncomingMessage): Session | SessionRefusal {
    let session = this.registry.get(id) ?? null;
    let refusal: SessionRefusal | null = null;
    if (session === null) {
      refusal = this.registry.refusal();
      if (refusal === null) session = this.registry.openById(id, prefix, opener);
    }
    this.#relay?.opened(prefix, id, session);
    return session ?? (refusal as SessionRefusal);
  }
}
