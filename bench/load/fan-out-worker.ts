/**
 * One process of the fan-out load: its share of the sessions (websocket or xhr-streaming),
 * opened from its own source address, counting what arrives. When every one of its
 * sessions has message i, it tells its parent when the last one got it. Several such
 * processes hold the largest audiences: one process may open only so many files, and one
 * source address has only so many ephemeral ports.
 */
import type WebSocket from 'ws';
import { epochNow, indexOf } from '../fan-out-message';
import { openSocket } from './websocket';
import { openStreams } from './xhr';
import { pooled } from './common';
import type { FanOutWorkerOrder, FanOutWorkerReport } from './fan-out';

let sessions = 0;
let errors = 0;
/** Sessions that have each message still in flight somewhere. */
const arrived = new Map<number, number>();
let close: () => void = () => undefined;

function report(message: FanOutWorkerReport): void {
  process.send?.(message);
}

function cpuMicros(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}

function received(text: string): void {
  const index = indexOf(text);
  if (index === -1) {
    errors++;
    return;
  }
  const count = (arrived.get(index) ?? 0) + 1;
  if (count < sessions) {
    arrived.set(index, count);
    return;
  }
  arrived.delete(index);
  report({ type: 'arrived', index, at: epochNow(), cpuMicros: cpuMicros(), errors });
}

/** A SockJS websocket frame: `a[...]` carries messages, `h` is a heartbeat. */
function frame(data: Buffer): void {
  if (data[0] === 0x61) {
    for (const text of JSON.parse(data.toString('utf8', 1)) as string[]) received(text);
  } else if (!(data.length === 1 && data[0] === 0x68)) {
    errors++;
  }
}

async function open(order: FanOutWorkerOrder): Promise<void> {
  sessions = order.sessions;
  const error = (): void => {
    errors++;
  };
  if (order.transport === 'xhr-streaming') {
    close = await openStreams(
      order.target.port,
      order.sessions,
      order.localAddress,
      (texts) => texts.forEach(received),
      error,
    );
    return;
  }
  const sockets: WebSocket[] = [];
  const raw = order.target.wire === 'raw-ws';
  await pooled(order.sessions, 50, async () => {
    const ws = await openSocket(order.target, order.localAddress);
    ws.on('message', (data: Buffer) => (raw ? received(data.toString()) : frame(data)));
    ws.on('close', error);
    sockets.push(ws);
  });
  close = () => {
    for (const ws of sockets) {
      ws.removeAllListeners('close');
      ws.terminate();
    }
  };
}

process.on('message', (order: FanOutWorkerOrder) => {
  open(order).then(
    () => report({ type: 'opened', sessions: order.sessions }),
    (failure: unknown) =>
      report({ type: 'failed', error: failure instanceof Error ? failure.message : String(failure) }),
  );
});
// The load generator went away: never outlive it.
process.on('disconnect', () => {
  close();
  process.exit(0);
});
