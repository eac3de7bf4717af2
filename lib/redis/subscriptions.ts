import type { ChannelListener, SubscriberLink } from './client';

interface ChannelState {
  /** What the callers want now. */
  wanted: boolean;
  /** What Redis has acknowledged. */
  current: boolean;
  /** The SUBSCRIBE or UNSUBSCRIBE in flight, if any. */
  busy: Promise<void> | null;
  /** When the last one failed: the timer that tries again. */
  retry: NodeJS.Timeout | null;
}

/**
 * How long after a failed SUBSCRIBE or UNSUBSCRIBE it is tried again. One fails when the
 * connection breaks before Redis answers, or at once while it is down if the client has no
 * offline queue; node-redis restores only the subscriptions Redis had acknowledged.
 */
const RETRY_MS = 1000;

/**
 * The channels one subscriber connection listens to. Joins and leaves may come faster than
 * Redis answers: each channel has at most one command in flight, and after it the state
 * Redis has is brought to the one last asked for. A command that failed is tried again
 * until Redis has that state.
 */
export class Subscriptions {
  private readonly channels = new Map<string, ChannelState>();
  private readonly listener: ChannelListener;
  private closed = false;

  /**
   * `fault` hears what `listener` throws. A client calls listeners while it parses a read
   * from the socket: an exception there would lose the messages after it in the same read.
   * `retryFailed` hears of each command tried again that failed again.
   */
  constructor(
    private readonly subscriber: SubscriberLink,
    listener: ChannelListener,
    fault: (error: unknown) => void,
    private readonly retryFailed: (channel: string, error: unknown) => void,
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

  /** Whether Redis has every channel as last asked for (no command in flight or failed). */
  get settled(): boolean {
    for (const state of this.channels.values()) if (state.current !== state.wanted) return false;
    return true;
  }

  /** Stops trying failed commands again. */
  close(): void {
    this.closed = true;
    for (const state of this.channels.values()) if (state.retry !== null) clearTimeout(state.retry);
  }

  private want(channel: string, wanted: boolean): Promise<void> {
    let state = this.channels.get(channel);
    if (state === undefined) {
      if (!wanted) return Promise.resolve();
      state = { wanted, current: false, busy: null, retry: null };
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
    } catch (error) {
      this.retryLater(channel, state);
      throw error;
    } finally {
      state.busy = null;
      if (!state.wanted && !state.current) this.channels.delete(channel);
    }
  }

  private retryLater(channel: string, state: ChannelState): void {
    if (this.closed || state.retry !== null) return;
    state.retry = setTimeout(() => {
      state.retry = null;
      if (this.closed || this.channels.get(channel) !== state) return;
      this.want(channel, state.wanted).catch((error: unknown) => this.retryFailed(channel, error));
    }, RETRY_MS);
    state.retry.unref();
  }
}
