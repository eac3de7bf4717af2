/**
 * Soak: `npm run soak [-- --duration 60 --clients 200]`.
 *
 * For a fixed time, many client loops open SockJS sessions one after another on every
 * transport (framed and raw websocket, xhr-streaming, xhr-polling, eventsource, htmlfile,
 * jsonp-polling), exchange a few echoed messages, and end each session at random: a client
 * abort in the middle of a receiving request, a close by the server, or the client going
 * away. The server runs in a child process (this file with `--server`, under
 * `--expose-gc`) and answers figures over IPC. At the end, once disconnectDelay has passed:
 * the session store must be empty, no connection open, no socket or timer left, and the
 * heap back near its baseline. The figures are printed; the exit code is 1 on a leak.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http, { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { writeHeapSnapshot } from 'node:v8';
import express from 'express';
import WebSocket from 'ws';
import { attachUpgrade, sockjsMiddleware, type ConnectionProtocol } from '../lib/index';
import { SERVICE } from '../lib/middleware';

const DISCONNECT_DELAY_MS = 2000;
/** Small, so that streams end at the limit and clients open new ones mid-session. */
const RESPONSE_LIMIT = 4096;
/** Heap growth (after GC) past which the run counts as leaking. */
const HEAP_TOLERANCE_BYTES = 4 * 1024 * 1024;
/** When the heap is over the tolerance, it is measured again this long after the load. */
const LATE_CHECK_MS = 35_000;

// ---------------------------------------------------------------------------------
// The server process
// ---------------------------------------------------------------------------------

/** Parent -> server. */
type ServerRequest =
  { id: number; type: 'figures' } | { id: number; type: 'snapshot' } | { id: number; type: 'exit' };

/** What the server reports about itself. */
interface Figures {
  /** Sessions in the store (HTTP transports). */
  sessions: number;
  /** Open connections of every transport (stats()). */
  connections: number;
  byProtocol: Record<string, number>;
  /** Sockets the HTTP server holds, upgraded ones included. */
  sockets: number;
  /** process.getActiveResourcesInfo(), counted by kind. */
  resources: Record<string, number>;
  heapUsed: number;
  rss: number;
  external: number;
  messagesIn: number;
  messagesOut: number;
}

async function collectGarbage(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('the server must run with --expose-gc');
  // Several passes with turns of the event loop between: finalizers and weak references
  // release more on the second and third pass.
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function runServer(): Promise<void> {
  const echo = sockjsMiddleware({
    disconnectDelay: DISCONNECT_DELAY_MS,
    responseLimit: RESPONSE_LIMIT,
    sockjsUrl: 'http://127.0.0.1/sockjs.js',
    log: () => undefined,
  });
  echo.on('connection', (conn) => {
    conn.on('data', (message: string) => {
      if (message === 'close') conn.close(3000, 'bye');
      else conn.write(message);
    });
  });
  const app = express();
  app.use('/echo', echo);
  const server = createServer(app);
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  attachUpgrade(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  const figures = async (): Promise<Figures> => {
    await collectGarbage();
    const resources: Record<string, number> = {};
    for (const kind of process.getActiveResourcesInfo()) resources[kind] = (resources[kind] ?? 0) + 1;
    const stats = echo.stats();
    const memory = process.memoryUsage();
    return {
      sessions: echo[SERVICE].registry.size,
      connections: stats.connections,
      byProtocol: { ...stats.connectionsByProtocol },
      sockets: sockets.size,
      resources,
      heapUsed: memory.heapUsed,
      rss: memory.rss,
      external: memory.external,
      messagesIn: stats.messagesIn,
      messagesOut: stats.messagesOut,
    };
  };
  process.on('message', (request: ServerRequest) => {
    if (request.type === 'figures') {
      void figures().then((reply) => process.send?.({ id: request.id, reply }));
    } else if (request.type === 'snapshot') {
      void collectGarbage().then(() => process.send?.({ id: request.id, reply: writeHeapSnapshot() }));
    } else {
      server.close();
      void echo.close().then(() => process.exit(0));
    }
  });
  process.send?.({ id: 0, reply: (server.address() as AddressInfo).port });
}

// ---------------------------------------------------------------------------------
// The load generator
// ---------------------------------------------------------------------------------

/** The soak drives every way a connection can be carried. */
type Transport = ConnectionProtocol;
const TRANSPORTS: readonly Transport[] = [
  'websocket',
  'websocket-raw',
  'xhr-streaming',
  'xhr-polling',
  'eventsource',
  'htmlfile',
  'jsonp-polling',
];
type Ending = 'abort' | 'server-close' | 'leave';

interface TransportTally {
  sessions: number;
  messages: number;
  abort: number;
  'server-close': number;
  leave: number;
  errors: number;
}

const tally = new Map<Transport, TransportTally>(
  TRANSPORTS.map((t) => [t, { sessions: 0, messages: 0, abort: 0, 'server-close': 0, leave: 0, errors: 0 }]),
);
const errorSamples: string[] = [];

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)] as T;
}

/** A message of 1 to 1500 characters, sometimes with characters that need escaping. */
function randomMessage(): string {
  const length = Math.random() < 0.9 ? 1 + Math.floor(Math.random() * 100) : 1500;
  const special = ['<', '&', '%', '\n', '"', '\u2028', 'é', '😀'];
  const chars: string[] = [];
  while (chars.length < length) {
    chars.push(...(Math.random() < 0.1 ? pick(special) : randomUUID().slice(0, 8)));
  }
  // Whole code points: a lone surrogate cannot travel in a raw websocket's UTF-8 text.
  return chars.slice(0, length).join('');
}

/** Frames arriving on one session, whatever carries them; `next()` waits with a timeout. */
class FrameQueue {
  private readonly frames: string[] = [];
  private wake: (() => void) | null = null;
  failure: Error | null = null;

  push(frame: string): void {
    this.frames.push(frame);
    this.notify();
  }

  fail(error: Error): void {
    this.failure ??= error;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  /** The next frame other than a heartbeat. */
  async next(timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const frame = this.frames.shift();
      if (frame !== undefined) {
        if (frame === 'h') continue;
        return frame;
      }
      if (this.failure !== null) throw this.failure;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a frame');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Waits for the echoes of `expected`, in order (they may come in one or more frames). */
  async expectMessages(expected: readonly string[]): Promise<void> {
    const got: string[] = [];
    while (got.length < expected.length) {
      const frame = await this.next();
      if (!frame.startsWith('a')) throw new Error(`expected messages, got ${frame.slice(0, 60)}`);
      got.push(...(JSON.parse(frame.slice(1)) as string[]));
    }
    if (got.length !== expected.length || got.some((m, i) => m !== expected[i])) {
      throw new Error('echoes lost, duplicated or reordered');
    }
  }
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 2048 });
let port = 0;

/** One HTTP request; `onData` sees the body as it arrives. Rejects after `timeoutMs`. */
function send(
  method: string,
  path: string,
  body: string | undefined,
  headers: Record<string, string>,
  onData?: (text: string) => void,
  timeoutMs = 15_000,
): { done: Promise<{ status: number; body: string }>; abort: () => void } {
  let req: http.ClientRequest | null = null;
  const done = new Promise<{ status: number; body: string }>((resolve, reject) => {
    const timer = setTimeout(() => {
      req?.destroy();
      reject(new Error(`timed out: ${method} ${path.replace(/\/[^/]+\/[^/]+\//, '/S/I/')}`));
    }, timeoutMs);
    req = http.request({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
      res.setEncoding('utf8');
      let text = '';
      res.on('data', (chunk: string) => {
        if (onData !== undefined) onData(chunk);
        else text += chunk;
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body: text });
      });
      res.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end(body);
  });
  return {
    done,
    abort: () => {
      req?.destroy();
    },
  };
}

const EVENT_ESCAPES: Record<string, string> = { '%25': '%', '%0D': '\r', '%0A': '\n', '%00': '\x00' };

/** Cuts a streaming body into frames as it arrives. */
function streamParser(transport: Transport, push: (frame: string) => void): (text: string) => void {
  let buffer = '';
  let preludeDone = false;
  return (text) => {
    buffer += text;
    if (!preludeDone) {
      const end =
        transport === 'xhr-streaming'
          ? buffer.indexOf('\n') + 1
          : transport === 'eventsource'
            ? buffer.startsWith('\r\n')
              ? 2
              : 0
            : buffer.indexOf('\r\n\r\n') === -1
              ? 0
              : buffer.indexOf('\r\n\r\n') + 4;
      if (end === 0) return;
      buffer = buffer.slice(end);
      preludeDone = true;
    }
    for (;;) {
      if (transport === 'xhr-streaming') {
        const nl = buffer.indexOf('\n');
        if (nl === -1) return;
        push(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
      } else if (transport === 'eventsource') {
        const end = buffer.indexOf('\r\n\r\n');
        if (end === -1) return;
        push(buffer.slice(6, end).replace(/%25|%0D|%0A|%00/g, (e) => EVENT_ESCAPES[e] ?? e));
        buffer = buffer.slice(end + 4);
      } else {
        const match = /^<script>\np\(("(?:[^"\\]|\\.)*")\);\n<\/script>\r\n/.exec(buffer);
        if (match === null) return;
        push(JSON.parse(match[1] ?? '""') as string);
        buffer = buffer.slice(match[0].length);
      }
    }
  };
}

/**
 * The receiving side of an HTTP session: one receiving request at a time, the next one
 * opened as soon as the previous ends (a poll answered, a stream at its response limit),
 * until a close frame arrives or the client stops.
 */
class Receiving {
  private current: { abort: () => void } | null = null;
  private stopped = false;
  /** Resolves when the loop has ended. */
  readonly finished: Promise<void>;

  constructor(
    private readonly transport: Transport,
    private readonly base: string,
    private readonly queue: FrameQueue,
  ) {
    this.finished = this.loop();
  }

  private async loop(): Promise<void> {
    const polling = this.transport === 'xhr-polling' || this.transport === 'jsonp-polling';
    while (!this.stopped) {
      let closed = false;
      const push = (frame: string): void => {
        if (frame.startsWith('c')) closed = true;
        this.queue.push(frame);
      };
      const [method, path] = this.request();
      const request = send(
        method,
        path,
        method === 'POST' ? '' : undefined,
        {},
        polling ? undefined : streamParser(this.transport, push),
        polling ? 40_000 : 60_000,
      );
      this.current = request;
      try {
        const response = await request.done;
        if (response.status !== 200) throw new Error(`${this.transport} answered ${response.status}`);
        if (polling) {
          const frame =
            this.transport === 'xhr-polling'
              ? response.body.replace(/\n$/, '')
              : (JSON.parse(/^\/\*\*\/cb\((.*)\);\r\n$/s.exec(response.body)?.[1] ?? '""') as string);
          push(frame);
        }
      } catch (error) {
        if (!this.stopped) this.queue.fail(error as Error);
        return;
      } finally {
        this.current = null;
      }
      if (closed) return;
    }
  }

  private request(): [string, string] {
    switch (this.transport) {
      case 'xhr-polling':
        return ['POST', `${this.base}/xhr`];
      case 'xhr-streaming':
        return ['POST', `${this.base}/xhr_streaming`];
      case 'eventsource':
        return ['GET', `${this.base}/eventsource`];
      case 'htmlfile':
        return ['GET', `${this.base}/htmlfile?c=cb`];
      default:
        return ['GET', `${this.base}/jsonp?c=cb`];
    }
  }

  /** The client cuts the receiving request in flight. */
  abort(): void {
    this.stopped = true;
    this.current?.abort();
  }

  /** The client opens no new receiving request (the one in flight may still end). */
  stop(): void {
    this.stopped = true;
  }
}

async function sendMessages(transport: Transport, base: string, messages: readonly string[]): Promise<void> {
  const json = JSON.stringify(messages);
  const jsonp = transport === 'jsonp-polling';
  const response = await send(
    'POST',
    `${base}/${jsonp ? 'jsonp_send' : 'xhr_send'}`,
    jsonp ? 'd=' + encodeURIComponent(json) : json,
    { 'Content-Type': jsonp ? 'application/x-www-form-urlencoded' : 'text/plain' },
  ).done;
  if (response.status !== (jsonp ? 200 : 204)) throw new Error(`send answered ${response.status}`);
}

async function httpSession(transport: Transport, ending: Ending, count: number): Promise<number> {
  const base = `/echo/${Math.floor(Math.random() * 1000)}/${randomUUID()}`;
  const queue = new FrameQueue();
  const receiving = new Receiving(transport, base, queue);
  try {
    if ((await queue.next()) !== 'o') throw new Error('no open frame');
    let echoed = 0;
    for (let i = 0; i < count; i++) {
      const batch = Array.from({ length: 1 + Math.floor(Math.random() * 3) }, randomMessage);
      await sendMessages(transport, base, batch);
      await queue.expectMessages(batch);
      echoed += batch.length;
    }
    if (ending === 'server-close') {
      await sendMessages(transport, base, ['close']);
      const frame = await queue.next();
      if (frame !== 'c[3000,"bye"]') throw new Error(`expected the close, got ${frame.slice(0, 60)}`);
    } else if (ending === 'leave') {
      // The client stops receiving (its last poll answered by one more message); the
      // session expires after disconnectDelay.
      receiving.stop();
      await sendMessages(transport, base, ['last']);
    } else {
      // Lets the next receiving request reach the server, then cuts it.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
      receiving.abort();
    }
    await receiving.finished;
    return echoed;
  } finally {
    receiving.abort();
  }
}

async function websocketSession(raw: boolean, ending: Ending, count: number): Promise<number> {
  const path = raw ? '/echo/websocket' : `/echo/000/${randomUUID()}/websocket`;
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { perMessageDeflate: false });
  const queue = new FrameQueue();
  let closeCode = 0;
  const closed = new Promise<void>((resolve) =>
    ws.on('close', (code: number) => {
      closeCode = code;
      queue.fail(new Error(`websocket closed with ${code}`));
      resolve();
    }),
  );
  ws.on('message', (data: WebSocket.RawData) => {
    const text = data.toString();
    // A raw websocket carries bare messages: present them as frames.
    queue.push(raw ? 'a' + JSON.stringify([text]) : text);
  });
  ws.on('error', (error) => queue.fail(error));
  try {
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    if (!raw && (await queue.next()) !== 'o') throw new Error('no open frame');
    for (let i = 0; i < count; i++) {
      const message = randomMessage();
      ws.send(raw ? message : JSON.stringify([message]));
      await queue.expectMessages([message]);
    }
    if (ending === 'server-close') {
      ws.send(raw ? 'close' : '["close"]');
      if (!raw && (await queue.next()) !== 'c[3000,"bye"]') throw new Error('expected the close frame');
      await closed;
      if (closeCode !== 3000) throw new Error(`closed with ${closeCode}, expected 3000`);
    } else if (ending === 'leave') {
      ws.close();
      await closed;
    } else {
      ws.terminate();
    }
  } finally {
    ws.terminate();
  }
  return count;
}

/** `--transports a,b`: only these (all by default). */
let enabled: readonly Transport[] = TRANSPORTS;

async function clientLoop(deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    const transport = pick(enabled);
    const streaming =
      transport === 'xhr-streaming' || transport === 'eventsource' || transport === 'htmlfile';
    // A streaming client cannot leave without cutting its stream: that is an abort.
    const ending: Ending = pick(streaming ? ['abort', 'server-close'] : ['abort', 'server-close', 'leave']);
    const count = Math.floor(Math.random() * 6);
    const entry = tally.get(transport) as TransportTally;
    entry.sessions++;
    try {
      const echoed =
        transport === 'websocket' || transport === 'websocket-raw'
          ? await websocketSession(transport === 'websocket-raw', ending, count)
          : await httpSession(transport, ending, count);
      entry.messages += echoed;
      entry[ending]++;
    } catch (error) {
      entry.errors++;
      if (errorSamples.length < 10) errorSamples.push(`${transport}/${ending}: ${(error as Error).message}`);
    }
  }
}

// ---------------------------------------------------------------------------------
// The runner
// ---------------------------------------------------------------------------------

/** `--name value` or `--name=value`. */
function textOption(name: string): string | undefined {
  const args = process.argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === `--${name}`) return args[i + 1];
    if (arg.startsWith(`--${name}=`)) return arg.slice(name.length + 3);
  }
  return undefined;
}

function option(name: string, fallback: number): number {
  const text = textOption(name);
  const value = text === undefined ? fallback : Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
}

let nextId = 1;
function ask(child: ChildProcess): Promise<Figures>;
function ask(child: ChildProcess, type: 'snapshot'): Promise<string>;
function ask(child: ChildProcess, type: 'figures' | 'snapshot' = 'figures'): Promise<Figures | string> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server did not answer')), 60_000);
    const onMessage = (message: { id: number; reply: Figures | string }): void => {
      if (message.id !== id) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(message.reply);
    };
    child.on('message', onMessage);
    child.send({ id, type } satisfies ServerRequest);
  });
}

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(2)} MiB`;

async function load(durationMs: number, clients: number): Promise<void> {
  const deadline = Date.now() + durationMs;
  await Promise.all(Array.from({ length: clients }, () => clientLoop(deadline)));
}

function sessionsSoFar(): number {
  let n = 0;
  for (const entry of tally.values()) n += entry.sessions;
  return n;
}

async function settle(child: ChildProcess): Promise<Figures> {
  // Sessions left by clients that went away expire after disconnectDelay.
  await new Promise((resolve) => setTimeout(resolve, DISCONNECT_DELAY_MS + 500));
  let figures = await ask(child);
  const deadline = Date.now() + 15_000;
  while ((figures.sessions > 0 || figures.connections > 0 || figures.sockets > 0) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    figures = await ask(child);
  }
  return figures;
}

function resourcesLine(resources: Record<string, number>): string {
  return Object.entries(resources)
    .sort()
    .map(([kind, n]) => `${kind} ${n}`)
    .join(', ');
}

async function runSoak(): Promise<void> {
  const durationS = option('duration', 60);
  const clients = option('clients', 200);
  const only = textOption('transports');
  if (only !== undefined) {
    enabled = only.split(',').map((name) => {
      if (!TRANSPORTS.includes(name as Transport)) throw new Error(`unknown transport ${name}`);
      return name as Transport;
    });
  }
  const child = fork(__filename, ['--server'], { execArgv: ['--expose-gc'], stdio: 'inherit' });
  port = await new Promise<number>((resolve) =>
    child.once('message', (message: { reply: number }) => resolve(message.reply)),
  );
  console.log(`soak: ${durationS} s, ${clients} client loops, server pid ${child.pid} on port ${port}`);

  // Warm-up: every code path runs once before the baseline is taken.
  await load(3000, 20);
  agent.destroy();
  const baseline = await settle(child);
  const warmupSessions = sessionsSoFar();
  for (const entry of tally.values()) {
    for (const key of Object.keys(entry) as (keyof TransportTally)[]) entry[key] = 0;
  }
  errorSamples.length = 0;
  console.log(
    `baseline after ${warmupSessions} warm-up sessions: heap ${mib(baseline.heapUsed)}, ` +
      `rss ${mib(baseline.rss)}, resources: ${resourcesLine(baseline.resources)}`,
  );

  const started = Date.now();
  const progress = setInterval(() => {
    void ask(child).then((f) => {
      const elapsed = Math.round((Date.now() - started) / 1000);
      console.log(
        `  ${elapsed} s: ${sessionsSoFar()} sessions, server: ${f.sessions} in store, ` +
          `${f.connections} open, ${f.sockets} sockets, heap ${mib(f.heapUsed)}`,
      );
    });
  }, 10_000);
  await load(durationS * 1000, clients);
  clearInterval(progress);
  const loadEnded = Date.now();
  agent.destroy();
  const final = await settle(child);
  const settledMs = Date.now() - loadEnded;

  console.log('');
  console.log('transport       sessions  messages    abort  s-close    leave   errors');
  let sessions = 0;
  let errors = 0;
  for (const [transport, entry] of tally) {
    sessions += entry.sessions;
    errors += entry.errors;
    console.log(
      transport.padEnd(14) +
        [entry.sessions, entry.messages, entry.abort, entry['server-close'], entry.leave, entry.errors]
          .map((n) => String(n).padStart(9))
          .join(''),
    );
  }
  const seconds = (loadEnded - started) / 1000;
  console.log(
    `total ${sessions} sessions in ${seconds.toFixed(1)} s (${Math.round(sessions / seconds)}/s), ${errors} client errors`,
  );
  console.log(`server: ${final.messagesIn} messages in, ${final.messagesOut} out`);
  for (const sample of errorSamples) console.log(`  error: ${sample}`);

  const heapGrowth = final.heapUsed - baseline.heapUsed;
  // Over the tolerance: measure again once every timer of the library has run out (the
  // longest is the 30 s dispatch timer of an upgrade), to tell memory held for a while
  // from memory never given back.
  let lateHeap: number | null = null;
  if (heapGrowth > HEAP_TOLERANCE_BYTES) {
    await new Promise((resolve) => setTimeout(resolve, LATE_CHECK_MS - (Date.now() - loadEnded)));
    lateHeap = (await ask(child)).heapUsed;
  }
  const extraResources = Object.entries(final.resources)
    .filter(([kind, n]) => n > (baseline.resources[kind] ?? 0))
    .map(([kind, n]) => `${kind} +${n - (baseline.resources[kind] ?? 0)}`);
  console.log('');
  console.log(
    `after the load, +${(settledMs / 1000).toFixed(1)} s (disconnectDelay ${DISCONNECT_DELAY_MS} ms):`,
  );
  console.log(`  session store:     ${final.sessions}`);
  console.log(`  open connections:  ${final.connections} ${JSON.stringify(final.byProtocol)}`);
  console.log(`  server sockets:    ${final.sockets}`);
  console.log(
    `  active resources:  ${resourcesLine(final.resources)} (baseline: ${resourcesLine(baseline.resources)})`,
  );
  console.log(
    `  heap after GC:     ${mib(final.heapUsed)} (baseline ${mib(baseline.heapUsed)}, ` +
      `${heapGrowth >= 0 ? '+' : ''}${mib(heapGrowth)}); rss ${mib(final.rss)}; external ${mib(final.external)}`,
  );

  if (process.argv.includes('--heap-snapshot')) {
    console.log(`  heap snapshot:     ${await ask(child, 'snapshot')} (in the server's working directory)`);
  }

  if (lateHeap !== null) {
    console.log(
      `  heap after GC, ${LATE_CHECK_MS / 1000} s after the load: ${mib(lateHeap)} ` +
        `(${lateHeap - baseline.heapUsed >= 0 ? '+' : ''}${mib(lateHeap - baseline.heapUsed)})`,
    );
  }

  const problems: string[] = [];
  if (final.sessions !== 0) problems.push(`${final.sessions} sessions left in the store`);
  if (final.connections !== 0) problems.push(`${final.connections} connections still open`);
  if (final.sockets !== 0) problems.push(`${final.sockets} sockets still open`);
  if (extraResources.length > 0) problems.push(`resources left: ${extraResources.join(', ')}`);
  if (lateHeap !== null && lateHeap - baseline.heapUsed > HEAP_TOLERANCE_BYTES) {
    problems.push(`heap grew by ${mib(lateHeap - baseline.heapUsed)} and stays there`);
  } else if (heapGrowth > HEAP_TOLERANCE_BYTES) {
    problems.push(
      `heap ${mib(heapGrowth)} above baseline once the sessions were gone, ` +
        `given back only ${LATE_CHECK_MS / 1000} s after the load`,
    );
  }
  child.send({ id: nextId++, type: 'exit' } satisfies ServerRequest);
  if (problems.length > 0) {
    console.log(`FAIL: ${problems.join('; ')}`);
    process.exitCode = 1;
  } else {
    console.log(`OK: store empty, nothing left open, heap within ${mib(HEAP_TOLERANCE_BYTES)} of baseline`);
  }
}

if (process.argv.includes('--server')) {
  void runServer();
} else {
  runSoak().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
