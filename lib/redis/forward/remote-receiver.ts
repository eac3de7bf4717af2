import type { ConnectionProtocol, Receiver, ReceiverOwner } from '../../transports/receiver';
import type { ResponseFormat } from '../../transports/response-receiver';
import type { ForwardMessage } from './wire';

/** Where a remote receiver's frames go: the process that holds the response. */
export interface RemoteLink {
  /** This process's id, the `from` of every message. */
  readonly self: string;
  /** Sends to process `node`; resolves with how many processes got it (0: none). */
  toNode(node: string, message: ForwardMessage): Promise<number>;
  remoteGone(remote: RemoteReceiver): void;
}

/**
 * The holder's side of a relayed request: a receiver whose frames go to the process that
 * holds the response. It spends the same byte budget as that response, so both sides end
 * it after the same frame.
 */
export class RemoteReceiver implements Receiver {
  readonly socket = null;
  readonly protocol: ConnectionProtocol;
  owner: ReceiverOwner | null = null;
  ended = false;
  /** `node/relay`: unique among the remote receivers of this process. */
  readonly name: string;
  private budget: number;

  constructor(
    private readonly link: RemoteLink,
    private readonly node: string,
    private readonly relay: number,
    private readonly format: ResponseFormat,
    limit: number,
    private readonly callback: string,
  ) {
    this.protocol = format.protocol;
    this.budget = limit;
    this.name = node + '/' + relay;
  }

  sendFrame(frame: string): void {
    if (this.ended) return;
    this.budget -= Buffer.byteLength(this.format.frame(frame, this.callback));
    this.forward({ type: 'frame', from: this.link.self, relay: this.relay, frame });
    if (this.budget <= 0) this.end();
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.link.remoteGone(this);
    this.forward({ type: 'end', from: this.link.self, relay: this.relay });
    const owner = this.owner;
    if (owner !== null) owner.receiverDone(this);
  }

  destroy(): void {
    if (this.ended) return;
    this.ended = true;
    this.link.remoteGone(this);
    this.forward({ type: 'destroy', from: this.link.self, relay: this.relay });
  }

  /** The client of the relayed request went away, or its process did. */
  lost(): void {
    if (this.ended) return;
    this.ended = true;
    this.link.remoteGone(this);
    const owner = this.owner;
    if (owner !== null) owner.receiverLost(this);
  }

  private forward(message: ForwardMessage): void {
    void this.link.toNode(this.node, message).then((reached) => {
      if (reached === 0) this.lost();
    });
  }
}
