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

  sent(message: string): void {
    this.messagesOut++;
    this.bytesOut += Buffer.byteLength(message);
  }
}
