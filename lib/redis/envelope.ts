import type { DropReason } from './drops';
import { isNodeId } from './node-id';
import { MAC_PATTERN, framed, type Signer } from './signing';

/**
 * Every message a broker publishes goes out in an envelope, and every message it reads
 * comes out of one first (docs/scale-out.md, "The signed envelope"). Without a secret the
 * envelope is the message itself.
 */
export interface Envelopes {
  seal(channel: string, payload: string): string;
  /** The payload and its sender (null when unsigned), or why the message is dropped. */
  open(channel: string, raw: string): Opened | DropReason;
}

export interface Opened {
  readonly payload: string;
  /** The process that signed it; null without a secret, where nobody vouches for a sender. */
  readonly sender: string | null;
}

/** Without a secret: messages travel as they are, and anything on the channel is taken. */
export const PLAIN_ENVELOPES: Envelopes = {
  seal: (_channel, payload) => payload,
  open: (_channel, raw) => ({ payload: raw, sender: null }),
};

/** Signed messages older or further ahead than this are dropped; clocks must agree within it. */
export const REPLAY_WINDOW_MS = 60_000;

const VERSION = 'sjs1';
/** `sjs1 <time> <seq> <sender> <mac>`: the first line of a signed message. */
const HEADER = new RegExp(`^${VERSION} (\\d{1,15}) (\\d{1,15}) (\\S{1,80}) (${MAC_PATTERN})$`);
/** The longest first line HEADER can match: longer ones are not looked at. */
const MAX_HEADER = 160;

/** The last message taken from one sender. */
interface SenderState {
  seq: number;
  /** Local time it was taken: the state is kept until a replay would be stale anyway. */
  seenAt: number;
}

/**
 * Envelopes signed with the shared secret: `sjs1 <time> <seq> <sender> <mac>\n<payload>`.
 * The MAC covers the header, the channel and the payload, so a message cannot be moved to
 * another channel, and a sender's sequence numbers only grow, so a message is taken once.
 */
export class SignedEnvelopes implements Envelopes {
  private seq = 0;
  private readonly senders = new Map<string, SenderState>();
  private lastSweep: number;

  constructor(
    private readonly signer: Signer,
    private readonly sender: string,
    private readonly now: () => number = Date.now,
  ) {
    this.lastSweep = now();
  }

  seal(channel: string, payload: string): string {
    const head = `${VERSION} ${this.now()} ${++this.seq} ${this.sender}`;
    return `${head} ${this.signer.mac(`${head}\n${framed(channel)}`, payload)}\n${payload}`;
  }

  open(channel: string, raw: string): Opened | DropReason {
    const now = this.now();
    this.sweep(now);
    if (!raw.startsWith(VERSION + ' ')) return 'unsigned';
    const end = raw.indexOf('\n', 0);
    if (end < 0 || end > MAX_HEADER) return 'malformed';
    const match = HEADER.exec(raw.slice(0, end));
    if (match === null || !isNodeId(match[3])) return 'malformed';
    const [, time, seq, sender, mac] = match;
    const head = `${VERSION} ${time} ${seq} ${sender}`;
    const payload = raw.slice(end + 1);
    if (!this.signer.verify(mac, `${head}\n${framed(channel)}`, payload)) return 'forged';
    // Only what the secret vouches for reaches the replay state below.
    if (Math.abs(now - Number(time)) > REPLAY_WINDOW_MS) return 'stale';
    const number = Number(seq);
    const state = this.senders.get(sender);
    if (state !== undefined && number <= state.seq) return 'replayed';
    if (state === undefined) this.senders.set(sender, { seq: number, seenAt: now });
    else {
      state.seq = number;
      state.seenAt = now;
    }
    return { payload, sender };
  }

  /** Forgets senders silent for two windows: any replay of theirs is stale by then. */
  private sweep(now: number): void {
    if (now - this.lastSweep < REPLAY_WINDOW_MS) return;
    this.lastSweep = now;
    for (const [sender, state] of this.senders) {
      if (now - state.seenAt > 2 * REPLAY_WINDOW_MS) this.senders.delete(sender);
    }
  }
}
