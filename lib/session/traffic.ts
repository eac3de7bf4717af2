/** Running totals of one service's application messages (not protocol frames). */
export class TrafficCounters {
  messagesIn = 0;
  bytesIn = 0;
  messagesOut = 0;
  bytesOut = 0;

  received(message: string): void {
    this.messagesIn++;
    this.bytesIn += Buffer.byteLength(message);
  }

  /** Counts a message written by the application; returns its size in bytes. */
  sent(message: string): number {
    return this.sentBytes(Buffer.byteLength(message));
  }

  /** Counts a message of `bytes` bytes whose size is known; returns it. */
  sentBytes(bytes: number): number {
    this.messagesOut++;
    this.bytesOut += bytes;
    return bytes;
  }
}
