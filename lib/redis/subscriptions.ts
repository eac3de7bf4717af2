import type { ChannelListener, SubscriberLink } from './client';

interface ChannelState {
  /** What the callers want now. */
  wanted: boolean;
  /** What Redis has acknowledged. */
  current: boolean;
  /** The SUBSCRIBE or UNSUBSCRIBE in flight, if any. */
  busy: Promise<void> | null;
}

/**
 * The channels one subscriber connection listens to. Joins and leaves may come faster than
 * Redis answers: each channel has at most one command in flight, and after it the state
 * Redis has is brought to the one last asked for.
 */
export class Subscriptions {
  private readonly channels = new Map<string, ChannelState>();
  private readonly listener: ChannelListener;

  /**
   * `fault` hears what `listener` throws. A client calls listeners while it parses a read
   * from the socket: an exception there would lose the messages after it in the same read.
   */
  constructor(
    private readonly subscriber: SubscriberLink,
    listener: ChannelListener,
    fault: (error: unknown) => void,
  ) {
    this.listener = (message, channel) => {
      try {
        listener(message, channel);
      } catch (error) {
        fault(error);
      }
    };
  }

  /** Resolves once Redis has acknowledged the subscription (at once when it already had). */
  subscribe(channel: string): Promise<void> {
    return this.want(channel, true);
  }

  unsubscribe(channel: string): Promise<void> {
    return this.want(channel, false);
  }

  /** Channels subscribed or being subscribed. */
  get size(): number {
    return this.channels.size;
  }

  private want(channel: string, wanted: boolean): Promise<void> {
    let state = this.channels.get(channel);
    if (state === undefined) {
      if (!wanted) return Promise.resolve();
      state = { wanted, current: false, busy: null };
      this.channels.set(channel, state);
    }
    state.wanted = wanted;
    if (state.busy === null) {
      if (state.current === wanted) return Promise.resolve();
      state.busy = this.settle(channel, state);
    }
    return state.busy;
  }

  private async settle(channel: string, state: ChannelState): Promise<void> {
    try {
      while (state.current !== state.wanted) {
        if (state.wanted) {
          await this.subscriber.subscribe(channel, this.listener);
          state.current = true;
        } else {
          await this.subscriber.unsubscribe(channel, this.listener);
          state.current = false;
        }
      }
    } finally {
      state.busy = null;
      if (!state.wanted && !state.current) this.channels.delete(channel);
    }
  }
}
