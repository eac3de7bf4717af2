/**
 * Websocket loads: framed SockJS (`/echo/<server>/<session>/websocket`: `o`, `a[...]`
 * frames, JSON arrays sent) or raw messages for the bare ws floor (`/echo`).
 */
import { createConnection, type NetConnectOpts, type Socket } from 'node:net';
import WebSocket from 'ws';
import type { ScenarioSpec } from '../scenarios';
import type { ClientTarget } from '../ipc';
import {
  Recorder,
  SendSchedule,
  delay,
  now,
  payload,
  pooled,
  sessionId,
  sourceAddress,
  withTimeout,
  type Load,
} from './common';

const OPEN_TIMEOUT_MS = 10_000;

function urlOf(target: ClientTarget): string {
  const base = `ws://127.0.0.1:${target.port}/echo`;
  return target.wire === 'raw-ws' ? base : `${base}/000/${sessionId()}/websocket`;
}

/**
 * Opens a websocket and resolves once the session is open: at the `o` frame for SockJS,
 * at the handshake for raw websockets.
 */
export function openSocket(
  target: ClientTarget,
  localAddress?: string,
  timeoutMs = OPEN_TIMEOUT_MS,
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    // The first bytes from the server, kept until the session is open: a failed opening
    // says what the server actually sent.
    let firstBytes = Buffer.alloc(0);
    let tapped: Socket | null = null;
    const tap = (chunk: Buffer): void => {
      if (firstBytes.length < 512) firstBytes = Buffer.concat([firstBytes, chunk]).subarray(0, 512);
    };
    const untap = (): void => {
      tapped?.removeListener('data', tap);
      tapped = null;
    };
    const ws = new WebSocket(urlOf(target), {
      perMessageDeflate: false,
      localAddress,
      // As ws's own netConnect: `path` here is the request path, not a unix socket.
      createConnection: ((options: NetConnectOpts & { socketPath?: string }) => {
        tapped = createConnection({ ...options, path: options.socketPath } as NetConnectOpts);
        tapped.on('data', tap);
        return tapped;
      }) as typeof createConnection,
    });
    const fail = (error: Error): void => {
      untap();
      ws.terminate();
      reject(error);
    };
    const timer = setTimeout(() => fail(new Error('websocket open timed out')), timeoutMs);
    ws.once('error', (error) => {
      clearTimeout(timer);
      untap();
      reject(new Error(`${error.message}; the server sent ${JSON.stringify(firstBytes.toString('latin1'))}`));
    });
    ws.once('close', () => {
      clearTimeout(timer);
      reject(new Error('websocket closed before it opened'));
    });
    const opened = (): void => {
      clearTimeout(timer);
      untap();
      ws.removeAllListeners('close');
      ws.removeAllListeners('error');
      ws.on('error', () => undefined);
      resolve(ws);
    };
    if (target.wire === 'raw-ws') {
      ws.once('open', opened);
    } else {
      ws.once('message', (data) => {
        if (String(data) === 'o') opened();
        else fail(new Error(`expected the open frame, got ${String(data).slice(0, 40)}`));
      });
    }
  });
}

/**
 * Echo: each session keeps `inFlight` messages on the wire, sending again as soon as one is
 * back (a closed loop), or one at a time on its schedule at an offered load.
 */
export class WebsocketEcho implements Load {
  readonly recorder = new Recorder();
  private readonly sockets: WebSocket[] = [];
  private running = true;
  private readonly message: string;
  /** What the client writes: the message itself, or a one-message JSON array. */
  private readonly wireMessage: string;

  constructor(
    private readonly spec: ScenarioSpec,
    private readonly target: ClientTarget,
  ) {
    this.message = payload(spec.messageBytes);
    this.wireMessage = target.wire === 'raw-ws' ? this.message : JSON.stringify([this.message]);
  }

  async setup(): Promise<void> {
    await pooled(this.spec.sessions, 50, async () => {
      this.sockets.push(await openSocket(this.target, undefined, this.spec.openTimeoutMs));
    });
    this.sockets.forEach((ws, index) => this.pump(ws, SendSchedule.of(this.spec, index)));
  }

  private pump(ws: WebSocket, schedule: SendSchedule | null): void {
    const sentAt: number[] = [];
    const { recorder, message, wireMessage } = this;
    const send = (): void => {
      if (!this.running) return;
      sentAt.push(now());
      ws.send(wireMessage);
    };
    const received = (text: string): void => {
      const started = sentAt.shift();
      if (started === undefined || text !== message) recorder.error();
      else recorder.record(now() - started);
      if (schedule === null) send();
      else schedule.next(send);
    };
    if (this.target.wire === 'raw-ws') {
      ws.on('message', (data) => received(String(data)));
    } else {
      ws.on('message', (data) => {
        const frame = String(data);
        if (frame[0] !== 'a') {
          if (frame !== 'h') recorder.error();
          return;
        }
        for (const text of JSON.parse(frame.slice(1)) as string[]) received(text);
      });
    }
    ws.on('close', () => {
      if (this.running) recorder.error();
    });
    if (schedule !== null) return schedule.start(send);
    for (let i = 0; i < this.spec.inFlight; i++) send();
  }

  openSessions(): number {
    return this.sockets.length;
  }

  async teardown(): Promise<void> {
    this.running = false;
    for (const ws of this.sockets) ws.terminate();
    this.sockets.length = 0;
    await delay(50);
  }
}

/** `sessions` loops of: open a session, wait for it to be open, close it, wait for the close. */
export class WebsocketOpenClose implements Load {
  readonly recorder = new Recorder();
  private running = true;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly spec: ScenarioSpec,
    private readonly target: ClientTarget,
  ) {}

  async setup(): Promise<void> {
    for (let i = 0; i < this.spec.sessions; i++) this.loops.push(this.loop());
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const started = now();
      try {
        const ws = await openSocket(this.target);
        const opened = now() - started;
        const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
        ws.close(1000);
        await withTimeout(closed, OPEN_TIMEOUT_MS, 'websocket close');
        this.recorder.record(opened);
      } catch {
        // Counted, then slowed down so that a failing target cannot spin the loop.
        this.recorder.error();
        await delay(10);
      }
    }
  }

  openSessions(): number {
    return 0;
  }

  async teardown(): Promise<void> {
    this.running = false;
    await withTimeout(Promise.all(this.loops), 2 * OPEN_TIMEOUT_MS, 'open/close loops to stop');
  }
}

/** Idle sessions, for memory per session and for the CPU their heartbeats cost. */
export class WebsocketIdle implements Load {
  readonly recorder = new Recorder();
  private readonly sockets: WebSocket[] = [];

  constructor(
    private readonly spec: ScenarioSpec,
    private readonly target: ClientTarget,
  ) {}

  /** Warms the server's code paths: a few sessions opened and closed. */
  async setup(): Promise<void> {
    await pooled(20, 5, async () => {
      const ws = await openSocket(this.target);
      await new Promise<void>((resolve) => {
        ws.once('close', () => resolve());
        ws.close(1000);
      });
    });
  }

  async openIdle(count: number): Promise<void> {
    const { recorder } = this;
    // Numbered after the sessions already open: the idle-scale runner opens them in steps.
    const first = this.sockets.length;
    await pooled(count, 50, async (index) => {
      const ws = await openSocket(this.target, sourceAddress(first + index, this.spec));
      // Heartbeats, counted so that a window shows they really flowed: `h` frames, or where
      // none come (sockjs-node), the websocket pings sent instead. Ours come with a ping
      // each, which is part of the same heartbeat.
      let framed = false;
      ws.on('message', (data: Buffer) => {
        if (!framed && data.length === 1 && data[0] === 0x68) framed = true;
        recorder.count++;
      });
      ws.on('ping', () => {
        if (!framed) recorder.count++;
      });
      ws.on('close', () => recorder.error());
      this.sockets.push(ws);
    });
  }

  closeIdle(count: number): void {
    for (const ws of this.sockets.splice(this.sockets.length - count)) {
      // A session the load closes is not one the server closed.
      ws.removeAllListeners('close');
      ws.close(1000);
    }
  }

  openSessions(): number {
    return this.sockets.length;
  }

  async teardown(): Promise<void> {
    for (const ws of this.sockets) {
      ws.removeAllListeners('close');
      ws.terminate();
    }
    this.sockets.length = 0;
    await delay(50);
  }
}
