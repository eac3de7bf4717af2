import { SharedMessage } from '../protocol/shared-message';

function forget(repeats: RepeatedMessage): void {
  repeats.forget();
}

/**
 * The text the last session sent alone in its frame, and that text as one SharedMessage
 * once another session sends it too: an application's loop of `conn.write(msg)` over its
 * connections then has each frame encoded once, for all of them, as `broker.publish()`
 * has it, instead of once per connection (a scan, a buffer and a frame header each).
 * Only the second session makes the SharedMessage, so a message sent to one connection
 * costs a comparison and nothing else. Forgotten after the tick it was sent in, so that
 * no message is kept past its delivery.
 */
export class RepeatedMessage {
  private text: string | null = null;
  private shared: SharedMessage | null = null;
  private forgetting = false;
  /** A flush list is running: it forgets the text when it ends, with no tick of its own. */
  private running = false;

  /** `text` shared, when the session before sent the same text; null otherwise. */
  sharedFor(text: string): SharedMessage | null {
    if (text === this.text) return (this.shared ??= new SharedMessage(text));
    this.text = text;
    this.shared = null;
    if (!this.forgetting && !this.running) {
      this.forgetting = true;
      process.nextTick(forget, this);
    }
    return null;
  }

  /**
   * A flush list's run begins. Most sends are flushed by one (every echo, every loop of
   * `conn.write()`), and it ends in the tick it began: forgetting then spares each run a
   * tick of its own.
   */
  runStarted(): void {
    this.running = true;
  }

  /** The flush list's run is over: what it sent is delivered. */
  runEnded(): void {
    this.running = false;
    this.forget();
  }

  /** @internal */
  forget(): void {
    this.text = null;
    this.shared = null;
    this.forgetting = false;
  }
}
