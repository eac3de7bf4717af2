/**
 * A process's id among the brokers, `<host>/<pid>/<8 hex digits>`, as broker/node-id.ts makes
 * it: it names the process's Redis channel, owner records and the sender of signed messages.
 */
const NODE_ID = /^[A-Za-z0-9._-]{1,64}\/\d{1,10}\/[0-9a-f]{8}$/;

/** Whether `value`, read from Redis, has the shape of a process id. */
export function isNodeId(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 80 && NODE_ID.test(value);
}
