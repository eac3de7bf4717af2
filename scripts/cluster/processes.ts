/**
 * Child processes for the cluster demo and the scale-out tests: demo instances, a
 * balancer (HAProxy or nginx) and redis-server, each on a free loopback port, each waited
 * for with a timeout and stopped for sure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** Where the compiled demo CLI is (this file runs from build/scripts/cluster/). */
export const DEMO_SERVER = join(__dirname, '..', '..', 'demo-app', 'server.js');

/** How long a child may take to start listening. */
export const START_TIMEOUT_MS = 10_000;

/**
 * The absolute path of an executable: `PATH` first, then the sbin directories Debian
 * installs daemons to (often missing from a user's PATH). Null when it is nowhere.
 */
export function findBinary(name: string): string | null {
  const directories = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const directory of directories) {
    if (directory === '') continue;
    const candidate = join(directory, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this directory: try the next one.
    }
  }
  return null;
}

/** A free TCP port on 127.0.0.1 (free when asked; the caller binds it right away). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts connections on 127.0.0.1:port; rejects after timeoutMs. */
export async function waitForPort(port: number, timeoutMs = START_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A child process whose output is kept (the tail of it) for error messages. */
export class Child {
  readonly process: ChildProcess;
  /** Resolves with the exit code (or the signal's name) once the process is gone. */
  readonly exited: Promise<number | string>;
  private output = '';
  private listeners: (() => void)[] = [];
  private gone = false;

  constructor(
    readonly name: string,
    command: string,
    args: readonly string[],
    options: { env?: NodeJS.ProcessEnv; cwd?: string; echo?: boolean } = {},
  ) {
    this.process = spawn(command, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      if (options.echo === true) process.stdout.write(text.replace(/^(?=.)/gm, `[${name}] `));
      this.output = (this.output + text).slice(-8192);
      for (const listener of this.listeners) listener();
    };
    this.process.stdout?.on('data', collect);
    this.process.stderr?.on('data', collect);
    this.exited = new Promise((resolve) => {
      this.process.once('error', (error) => {
        this.output += `\n${error.message}`;
        this.gone = true;
        resolve('error');
      });
      this.process.once('exit', (code, signal) => {
        this.gone = true;
        for (const listener of this.listeners) listener();
        resolve(code ?? signal ?? 'unknown');
      });
    });
  }

  /** The last 8 KiB the process wrote. */
  get log(): string {
    return this.output;
  }

  get running(): boolean {
    return !this.gone;
  }

  /** Resolves with the first match of `pattern` in the output; rejects on exit or timeout. */
  waitFor(pattern: RegExp, timeoutMs = START_TIMEOUT_MS): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.listeners = this.listeners.filter((listener) => listener !== check);
      };
      const check = (): void => {
        const match = pattern.exec(this.output);
        if (match !== null) {
          done();
          resolve(match);
        } else if (this.gone) {
          done();
          reject(new Error(`${this.name} exited before printing ${pattern}:\n${this.output}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.name} did not print ${pattern} within ${timeoutMs} ms:\n${this.output}`));
      }, timeoutMs);
      this.listeners.push(check);
      check();
    });
  }

  /** Sends `signal`, then SIGKILL after `graceMs` if it is still there; resolves once it is gone. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 3000): Promise<void> {
    if (this.gone) return;
    this.process.kill(signal);
    const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Kills at once, as a crash would. */
  async kill(): Promise<void> {
    await this.stop('SIGKILL');
  }
}

/** A scratch directory, removed by `remove()`. */
export class ScratchDir {
  readonly path: string;

  constructor(prefix: string) {
    this.path = mkdtempSync(join(tmpdir(), prefix));
  }

  write(name: string, text: string): string {
    const path = join(this.path, name);
    writeFileSync(path, text);
    return path;
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

/** A running redis-server with nothing saved to disk. */
export interface RedisProcess {
  readonly child: Child;
  readonly port: number;
  /** `redis://127.0.0.1:PORT` */
  readonly url: string;
}

/**
 * Starts redis-server on a free loopback port, or on `port` (to restart one that was
 * stopped: with nothing saved, it comes back empty), with `extraArgs` after the others.
 */
export async function startRedis(
  binary: string,
  dir: ScratchDir,
  echo = false,
  port?: number,
  extraArgs: readonly string[] = [],
): Promise<RedisProcess> {
  port ??= await freePort();
  const child = new Child(
    `redis-server ${port}`,
    binary,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir.path,
      '--logfile',
      '',
      ...extraArgs,
    ],
    { echo },
  );
  try {
    await child.waitFor(/Ready to accept connections/);
    return { child, port, url: `redis://127.0.0.1:${port}` };
  } catch (error) {
    await child.kill();
    throw error;
  }
}

/** Settings of one demo process (the `npm start` CLI). */
export interface DemoInstanceOptions {
  readonly instance: string;
  readonly port?: number;
  readonly redisUrl?: string;
  readonly forward?: boolean;
  /** The brokers' shared `secret` (REDIS_SECRET). */
  readonly redisSecret?: string;
  /** `redisUrl` is a Redis Cluster: some of its nodes' URLs, separated by commas (REDIS_CLUSTER). */
  readonly redisCluster?: boolean;
  /** The client library (REDIS_CLIENT): `node-redis` (the default) or `ioredis`. */
  readonly redisClient?: string;
  readonly jsessionid?: boolean;
  readonly heartbeatDelay?: number;
  readonly disconnectDelay?: number;
  readonly echo?: boolean;
}

/** One running demo process. */
export interface DemoInstance {
  readonly name: string;
  readonly child: Child;
  readonly port: number;
  readonly url: string;
}

/** Starts `node build/demo-app/server.js` on 127.0.0.1 and waits until it listens. */
export async function startDemoInstance(options: DemoInstanceOptions): Promise<DemoInstance> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOST: '127.0.0.1',
    PORT: String(options.port ?? 0),
    DEMO_INSTANCE: options.instance,
    CROSS_ORIGIN: '',
  };
  delete env.REDIS_URL;
  if (options.redisUrl !== undefined) env.REDIS_URL = options.redisUrl;
  delete env.REDIS_SECRET;
  if (options.redisSecret !== undefined) env.REDIS_SECRET = options.redisSecret;
  delete env.REDIS_CLUSTER;
  if (options.redisCluster === true) env.REDIS_CLUSTER = '1';
  delete env.REDIS_CLIENT;
  if (options.redisClient !== undefined) env.REDIS_CLIENT = options.redisClient;
  if (options.forward === true) env.DEMO_FORWARD = '1';
  if (options.jsessionid === true) env.DEMO_JSESSIONID = '1';
  if (options.heartbeatDelay !== undefined) env.DEMO_HEARTBEAT_DELAY = String(options.heartbeatDelay);
  if (options.disconnectDelay !== undefined) env.DEMO_DISCONNECT_DELAY = String(options.disconnectDelay);
  const child = new Child(options.instance, process.execPath, [DEMO_SERVER], { env, echo: options.echo });
  try {
    const match = await child.waitFor(/demo on (http:\/\/[^\s/]+:(\d+))\//);
    return { name: options.instance, child, port: Number(match[2]), url: match[1] };
  } catch (error) {
    await child.kill();
    throw error;
  }
}

/** A running balancer in the foreground. */
export interface BalancerProcess {
  readonly child: Child;
  readonly port: number;
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
}

/** Checks an HAProxy configuration, then runs it in the foreground until it listens on `port`. */
export async function startHaproxy(
  binary: string,
  config: string,
  port: number,
  dir: ScratchDir,
  echo = false,
): Promise<BalancerProcess> {
  const file = dir.write('haproxy.cfg', config);
  const check = new Child('haproxy -c', binary, ['-c', '-q', '-f', file]);
  if ((await check.exited) !== 0)
    throw new Error(`haproxy rejects the configuration:\n${check.log}\n${config}`);
  const child = new Child('haproxy', binary, ['-db', '-f', file], { echo });
  return balancerListening(child, port);
}

/**
 * Runs a private nginx in the foreground: its prefix, pid, logs and temporary files are in
 * `dir` (`config` from nginxConfig()); nothing of the system's nginx is touched.
 */
export async function startNginx(
  binary: string,
  config: string,
  port: number,
  dir: ScratchDir,
  echo = false,
): Promise<BalancerProcess> {
  const file = dir.write('nginx.conf', config);
  const errorLog = join(dir.path, 'error.log');
  const args = ['-p', dir.path, '-e', errorLog, '-c', file];
  const check = new Child('nginx -t', binary, [...args, '-t', '-q']);
  if ((await check.exited) !== 0)
    throw new Error(`nginx rejects the configuration:\n${check.log}\n${config}`);
  const child = new Child('nginx', binary, args, { echo });
  return balancerListening(child, port);
}

async function balancerListening(child: Child, port: number): Promise<BalancerProcess> {
  let settled = false;
  const died = child.exited.then((code) => {
    if (!settled) throw new Error(`${child.name} exited (${code}) before listening:\n${child.log}`);
  });
  try {
    await Promise.race([waitForPort(port), died]);
    settled = true;
    return { child, port, url: `http://127.0.0.1:${port}` };
  } catch (error) {
    settled = true;
    await child.kill();
    await died.catch(() => undefined);
    throw error;
  }
}
