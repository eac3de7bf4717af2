import type { Connection } from '../session/connection';
import { ReadyState } from '../session/ready-state';
import { SharedMessage } from '../protocol/shared-message';

/**
 * Writes `message` to every open connection of `connections`, encoded once for them all
 * (docs/performance.md, "Broadcasting"). Returns how many it was written to.
 */
export function fanOut(connections: Iterable<Connection>, message: string): number {
  const shared = new SharedMessage(message);
  let written = 0;
  for (const connection of connections) {
    if (connection.readyState !== ReadyState.OPEN) continue;
    connection.writeShared(shared);
    written++;
  }
  return written;
}

/**
 * Runs fan-outs one at a time. A write can close a connection at once (a client that stopped
 * reading), and the application's `close` listener may publish: that fan-out waits until
 * the one running has reached every connection, so all of them see the same order.
 */
export class FanOutQueue {
  private running = false;
  private readonly waiting: (() => void)[] = [];

  /** Fans `message` out to `recipients()`, read when its turn comes. */
  deliver(recipients: () => Iterable<Connection>, message: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const task = (): void => {
        try {
          resolve(fanOut(recipients(), message));
        } catch (error) {
          // A listener of the application threw while a connection closed.
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      };
      if (this.running) {
        this.waiting.push(task);
        return;
      }
      this.running = true;
      task();
      // Tasks added meanwhile run in turn; the array may grow while it is read.
      for (let i = 0; i < this.waiting.length; i++) this.waiting[i]();
      this.waiting.length = 0;
      this.running = false;
    });
  }
}
