/**
 * The library targets' broadcast in fan-out runs: the application's `conn.write()` loop, or
 * (`BENCH_FANOUT=publish`, the `-publish` targets) the main entry's `createBroker()`, which
 * encodes a message once for every connection.
 */
import type { Connection, ConnectionSource } from '../../lib/index';
import { library } from './library';
import { connectionLoop, fanOutWay, type Broadcast } from './broadcast';

/** Undefined outside fan-out runs: nothing is tracked then. */
export function oursBroadcast(service: ConnectionSource): Broadcast | undefined {
  const way = fanOutWay();
  if (way === null) return undefined;
  if (way === 'publish') {
    // Loaded only here: a baseline from before the broker still runs the loop targets.
    const { createBroker } = library('createBroker');
    const broker = createBroker({ log: () => undefined });
    broker.attach(service);
    return (message) => broker.publish(message);
  }
  const loop = connectionLoop<Connection>();
  service.on('connection', (conn) => loop.add(conn));
  return loop.broadcast;
}
