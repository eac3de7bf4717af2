import type { Receiver, ReceiverOwner } from '../../transports/receiver';
import type { RelayedShape, RemoteSession } from '../../session/lookup';
import { INTERRUPTED_FRAME } from '../../protocol/frames';

/** A receiving response of this process, as the forwarder holds it. */
export type RelayedReceiver = Receiver & RelayedShape;

/** What relays and holders report to the forwarder. */
export interface RelayHost {
  relayTo(holder: RemoteHolder, receiver: RelayedReceiver, openHere: () => boolean, hops: number): void;
  forwardSend(holder: RemoteHolder, messages: readonly string[], done: (taken: boolean) => void): void;
  relayLost(relay: Relay): void;
  relayDone(relay: Relay): void;
}

/** A session another process holds: what the session lookup hands the transports. */
export class RemoteHolder implements RemoteSession {
  constructor(
    private readonly host: RelayHost,
    /** The process holding the session. */
    readonly node: string,
    /** The session's owner record. */
    readonly key: string,
    /** Of the service the request came to: a relay silent for two of them is cut. */
    readonly heartbeatDelay: number,
  ) {}

  receive(receiver: RelayedReceiver, openHere: () => boolean): void {
    this.host.relayTo(this, receiver, openHere, 0);
  }

  deliver(messages: readonly string[], done: (taken: boolean) => void): void {
    this.host.forwardSend(this, messages, done);
  }
}

/** A receiving request served here for a session another process holds. */
export class Relay implements ReceiverOwner {
  lastSeen = Date.now();

  constructor(
    private readonly host: RelayHost,
    readonly id: number,
    readonly holder: RemoteHolder,
    readonly receiver: RelayedReceiver,
    /** Opens a session here for the request instead, when its holder is gone. */
    readonly openHere: () => boolean,
    /** How often the request was handed on to a newer holder. */
    readonly hops: number,
  ) {}

  receiverDone(): void {
    this.host.relayDone(this);
  }

  receiverLost(): void {
    this.host.relayLost(this);
  }
}

/** A forwarded send waiting for the holder's answer. */
export class PendingSend {
  private settled = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly node: string,
    timeout: number,
    private readonly done: (taken: boolean) => void,
  ) {
    this.timer = setTimeout(() => this.settle(false), timeout);
    this.timer.unref();
  }

  settle(taken: boolean): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.done(taken);
  }
}

/** Ends a relayed response with the frame of a session cut by the network. */
export function interrupt(receiver: Receiver): void {
  receiver.owner = null;
  if (receiver.ended) return;
  receiver.sendFrame(INTERRUPTED_FRAME);
  receiver.end();
}
