import type { Socket } from 'node:net';
import type { SharedMessage } from '../protocol/shared-message';

/** How the application's connection is carried; `Connection.protocol`. */
export type ConnectionProtocol =
  | 'websocket'
  | 'websocket-raw'
  | 'xhr-streaming'
  | 'xhr-polling'
  | 'eventsource'
  | 'htmlfile'
  | 'jsonp-polling';

/** What a receiver tells the session it is attached to. */
export interface ReceiverOwner {
  /** The receiver ended normally (polling answered, response limit reached). */
  receiverDone(receiver: Receiver): void;
  /** The peer went away (network cut, client abort, websocket closed). */
  receiverLost(receiver: Receiver): void;
}

/**
 * The small contract every transport implements: a receiving connection that the
 * session writes frames to. See transports/response-receiver.ts and websocket/receiver.ts.
 */
export interface Receiver {
  readonly protocol: ConnectionProtocol;
  /** The client's socket, when it is in this process. */
  readonly socket: Socket | null;
  /** True once the receiver can carry no more frames. */
  readonly ended: boolean;
  /** The session it feeds; set by the session on attach, cleared on detach. */
  owner: ReceiverOwner | null;
  /** Writes one frame. May end the receiver (a poll carries one frame). */
  sendFrame(frame: string): void;
  /** Ends the transport; the owner, if any, hears `receiverDone`. */
  end(): void;
  /** Cuts the transport at once, dropping what it still buffers (a client not reading). */
  destroy(): void;
  /**
   * Messages the transport frames itself: a raw websocket sends them as they are; others
   * build the frame's bytes straight from plain text. `bytes` is their UTF-8 size, which
   * the session counted as they were queued. Transports without it get
   * `sendFrame(messageFrame(messages))`.
   */
  sendMessages?(messages: readonly string[], bytes: number): void;
  /**
   * One message that many sessions send (a broker's publish), alone in its frame: the
   * transport writes an encoding of it shared by every receiver of its kind.
   */
  sendShared?(message: SharedMessage): void;
  /** A heartbeat, where the transport has more to do than write the `h` frame. */
  sendHeartbeat?(): void;
  /** Transports without SockJS framing (raw websocket) take the close as it is. */
  sendClose?(code: number, reason: string): void;
}
