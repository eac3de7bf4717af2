/**
 * The fan-out scenarios' message: what a target server broadcasts and what the load
 * generator's workers recognise. It carries its index, so that each worker can tell which
 * message every one of its sessions has, and is ASCII letters and digits only, like the
 * echo scenarios' messages (nothing for JSON or SockJS to escape).
 */
import { payload } from './load/common';

/** `m<index>x` and letters up to `bytes`. */
export function fanOutMessage(index: number, bytes: number): string {
  const head = `m${index}x`;
  return head + payload(Math.max(0, bytes - head.length));
}

/** The index a fan-out message carries, or -1 for anything else. */
export function indexOf(text: string): number {
  if (text.charCodeAt(0) !== 0x6d) return -1; // m
  const end = text.indexOf('x', 1);
  const index = end === -1 ? NaN : Number(text.slice(1, end));
  return Number.isInteger(index) && index >= 0 ? index : -1;
}

/**
 * Milliseconds since the epoch at sub-millisecond resolution: comparable between the
 * runner, the server and the load generator's workers, which are separate processes of one
 * machine (performance.now() alone starts at each process's own origin).
 */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}
