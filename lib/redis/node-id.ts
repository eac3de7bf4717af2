import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * A process's id among the brokers, `<host>/<pid>/<8 hex digits>`: it names the process's
 * Redis channel, owner records and the sender of signed messages. The host part keeps only
 * characters that cannot split a header or a channel name.
 */
const NODE_ID = /^[A-Za-z0-9._-]{1,64}\/\d{1,10}\/[0-9a-f]{8}$/;

/** A new id for this process. */
export function newNodeId(): string {
  const host =
    hostname()
      .replace(/[^A-Za-z0-9._-]/g, '_')
      .slice(0, 64) || 'host';
  return `${host}/${process.pid}/${randomBytes(4).toString('hex')}`;
}

/** Whether `value`, read from Redis, has the shape of a process id. */
export function isNodeId(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 80 && NODE_ID.test(value);
}
