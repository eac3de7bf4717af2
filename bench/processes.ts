/**
 * The benchmark's child processes (target servers, the load generator): started pinned to
 * their cores, tracked, and killed on the way out, whatever the way.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { IpcPeer } from './ipc';
import { TARGETS, currentOf, type RunTarget } from './scenarios';

const children = new Set<ChildProcess>();

export function killChildren(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

process.on('exit', killChildren);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping every child process`);
    killChildren();
    process.exit(130);
  });
}

/** `taskset -c <cpu>` when it works here and there is more than one core; `nice` if asked. */
export function pinning(
  enabled: boolean,
  nice: number | null,
): { server: string[]; client: string[]; text: string } {
  const pins = cpuPinning(enabled);
  if (nice === null) return pins;
  const prefix = ['nice', '-n', String(nice)];
  return {
    server: [...prefix, ...pins.server],
    client: [...prefix, ...pins.client],
    text: `${pins.text}; nice ${nice}`,
  };
}

function cpuPinning(enabled: boolean): { server: string[]; client: string[]; text: string } {
  const none = { server: [], client: [], text: 'no core pinning' };
  if (!enabled) return { ...none, text: 'no core pinning (--no-pin)' };
  const cores = cpus().length;
  if (cores < 2) return { ...none, text: 'no core pinning (one core)' };
  const probe = spawnSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
  if (probe.error !== undefined || probe.status !== 0)
    return { ...none, text: 'no core pinning (no taskset)' };
  return {
    server: ['taskset', '-c', '0'],
    client: ['taskset', '-c', '1'],
    text: 'server pinned to core 0 and load generator to core 1 (taskset)',
  };
}

export function start(
  prefix: string[],
  nodeArgs: string[],
  label: string,
  env: NodeJS.ProcessEnv = process.env,
): ChildProcess {
  const command = [...prefix, process.execPath, ...nodeArgs];
  const child = spawn(command[0], command.slice(1), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env });
  children.add(child);
  child.on('exit', () => children.delete(child));
  child.on('error', (error) => console.error(`${label}: ${error.message}`));
  return child;
}

export async function stop(child: ChildProcess, peer: IpcPeer | null): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (peer !== null) await peer.request({ type: 'exit' }, 2000).catch(() => undefined);
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

export interface Server {
  child: ChildProcess;
  peer: IpcPeer;
  port: number;
}

/**
 * Variables the runner decides for each server, whatever its own environment says: which
 * build of the library a script loads, the library's switches the targets set, how a
 * server broadcasts in fan-out runs, and the heartbeat period (shortened by the idle-scale
 * runner only).
 */
const SERVER_VARIABLES = [
  'SOCKJS_EXPRESS_LIB',
  'SOCKJS_EXPRESS_PUBLIC_ONLY',
  'BENCH_FANOUT',
  'BENCH_HEARTBEAT_MS',
];

/**
 * Starts a target's server script with the runner's environment, less SERVER_VARIABLES,
 * plus the target's own variables and `env` (a baseline twin's SOCKJS_EXPRESS_LIB), and
 * Node's options `nodeFlags` (the idle-scale runner's), given `startMs` to listen (longer
 * under valgrind).
 */
export async function startServer(
  target: RunTarget,
  prefix: string[],
  env: Readonly<Record<string, string>> = {},
  nodeFlags: readonly string[] = [],
  startMs = 15_000,
): Promise<Server> {
  const spec = TARGETS[currentOf(target)];
  const script = join(__dirname, 'servers', spec.script);
  const serverEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const name of SERVER_VARIABLES) delete serverEnv[name];
  Object.assign(serverEnv, spec.env, env);
  const child = start(prefix, ['--expose-gc', ...nodeFlags, script], target, serverEnv);
  const peer = new IpcPeer(child, target);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${target} did not start within ${startMs / 1000} s`)),
      startMs,
    );
    child.on('message', (message: { type?: string; port?: number; message?: string }) => {
      if (message.type === 'ready' && typeof message.port === 'number') {
        clearTimeout(timer);
        resolve(message.port);
      } else if (message.type === 'fatal') {
        clearTimeout(timer);
        reject(new Error(`${target}: ${message.message}`));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      // After the messages still on their way: a 'fatal' one says more than the exit code.
      setTimeout(() => reject(new Error(`${target} exited with ${code} before listening`)), 100);
    });
  });
  return { child, peer, port };
}
