import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * A new id for a broker of this process, `<host>/<pid>/<8 hex digits>`. With Redis it names
 * the process's channel, owner records and the sender of signed messages, so the host part
 * keeps only characters that cannot split a header or a channel name.
 */
export function newNodeId(): string {
  const host =
    hostname()
      .replace(/[^A-Za-z0-9._-]/g, '_')
      .slice(0, 64) || 'host';
  return `${host}/${process.pid}/${randomBytes(4).toString('hex')}`;
}
