/**
 * The part every target server shares: listen on 127.0.0.1 on a free port, report the
 * port to the runner, and answer its questions about this process's CPU time and memory.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { serveRequests } from '../ipc';
import { fanOutMessage } from '../fan-out-message';
import type { Broadcast } from './broadcast';
import { systemCalls } from '../host';
import { measureMemory } from './memory';
import { collections } from './collections';
import { mainThread } from './main-thread';

/** Messages per message: the benchmark echoes; this is every target's application. */
export const ECHO_PATH = '/echo';

/**
 * The heartbeat period a target runs with: `BENCH_HEARTBEAT_MS` when the runner sets it
 * (the idle-scale runner shortens it so that a window of seconds holds several heartbeats
 * of every session), otherwise undefined: each server's own default, 25 s for all of them.
 */
export function runnerHeartbeatMs(): number | undefined {
  const value = process.env['BENCH_HEARTBEAT_MS'];
  if (value === undefined || value === '') return undefined;
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms <= 0)
    throw new Error(`BENCH_HEARTBEAT_MS=${value} is not a positive integer`);
  return ms;
}

/**
 * `broadcast`: how this target sends one message to every connection, in fan-out runs.
 * Each `fanout` request from the runner is one message, sent in the turn of the event
 * loop the request arrives in: the same trigger, at the same cost, for every target.
 */
export function serve(server: Server, broadcast?: Broadcast): void {
  serveRequests(async (request) => {
    switch (request.type) {
      case 'fanout': {
        if (broadcast === undefined) throw new Error('not started for a fan-out run (BENCH_FANOUT)');
        const { index, bytes } = request as unknown as { index: number; bytes: number };
        await broadcast(fanOutMessage(index, bytes));
        return true;
      }
      case 'cpu':
        return { ...process.cpuUsage(), ...mainThread(), ...systemCalls(), ...collections() };
      case 'memory':
        return measureMemory();
      case 'profile-start':
        return profiler.start();
      case 'profile-stop':
        return profiler.stop((request as { path?: string }).path ?? 'server.cpuprofile');
      case 'exit':
        // A normal exit, so that --cpu-prof writes its profile.
        setImmediate(() => process.exit(0));
        return true;
      default:
        throw new Error(`unknown request ${request.type}`);
    }
  });
  const exit = (): void => process.exit(0);
  process.on('SIGTERM', exit);
  process.on('SIGINT', exit);
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    process.send?.({ type: 'ready', port, pid: process.pid });
  });
}

/**
 * A CPU profile of the measured window only (not startup, not session setup), taken with
 * the inspector in this process: what `node --cpu-prof` writes, without the noise.
 */
const profiler = {
  session: null as Session | null,
  post(method: string, params?: object): Promise<unknown> {
    return new Promise((resolve, reject) => {
      (this.session as Session).post(method, params ?? {}, (error, result) =>
        error === null ? resolve(result) : reject(error),
      );
    });
  },
  async start(): Promise<boolean> {
    this.session = new Session();
    this.session.connect();
    await this.post('Profiler.enable');
    // 250 us: about 12,000 samples over a 3 s window.
    await this.post('Profiler.setSamplingInterval', { interval: 250 });
    await this.post('Profiler.start');
    return true;
  },
  async stop(path: string): Promise<string> {
    if (this.session === null) throw new Error('the profiler was not started');
    const { profile } = (await this.post('Profiler.stop')) as { profile: object };
    this.session.disconnect();
    this.session = null;
    writeFileSync(path, JSON.stringify(profile));
    return path;
  },
};
