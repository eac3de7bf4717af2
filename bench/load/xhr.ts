/**
 * HTTP loads over keep-alive `node:http`: xhr-streaming (a held POST .../xhr_streaming
 * carrying `\n`-terminated frames, reopened when the server ends it at its response
 * limit) and xhr-polling (POST .../xhr, one frame per response), both sending with POST
 * .../xhr_send and a JSON array body.
 */
import { Agent, request, type IncomingMessage } from 'node:http';
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

/** What the session does with the frames it receives. */
interface FrameSink {
  opened(): void;
  messages(texts: string[]): void;
  closed(frame: string): void;
  failed(error: Error): void;
  /** An `h` frame on its own: a heartbeat (the streaming prelude is 2048 of them on one line). */
  heartbeat?(): void;
}

/** One SockJS session over HTTP: its URLs and its sends. */
export class HttpSession {
  readonly path: string;
  /** The receiving request in progress, if any. */
  receiving: ReturnType<typeof request> | null = null;
  ended = false;

  constructor(
    readonly agent: Agent,
    readonly port: number,
    readonly recorder: Recorder,
    /** The loopback address its requests come from; 127.0.0.1 when undefined. */
    readonly localAddress?: string,
  ) {
    this.path = `/echo/000/${sessionId()}/`;
  }

  post(
    transport: string,
    body: string,
    onResponse: (res: IncomingMessage) => void,
    onError: (e: Error) => void,
  ): ReturnType<typeof request> {
    const req = request(
      {
        agent: this.agent,
        host: '127.0.0.1',
        port: this.port,
        localAddress: this.localAddress,
        method: 'POST',
        path: this.path + transport,
        headers: { 'Content-Type': 'text/plain;charset=UTF-8', 'Content-Length': Buffer.byteLength(body) },
      },
      onResponse,
    );
    req.on('error', onError);
    req.end(body);
    return req;
  }

  /** POST .../xhr_send; `done` once its response has ended (a 204 is expected). */
  send(body: string, done?: () => void): void {
    this.post(
      'xhr_send',
      body,
      (res) => {
        if (res.statusCode !== 204) this.recorder.error();
        if (done !== undefined) res.once('end', done);
        res.resume();
      },
      () => {
        if (!this.ended) this.recorder.error();
      },
    );
  }

  /** Hands every complete frame of a frame-per-line body to `sink`. */
  static dispatch(line: string, sink: FrameSink): void {
    switch (line[0]) {
      case 'o':
        sink.opened();
        break;
      case 'a':
        sink.messages(JSON.parse(line.slice(1)) as string[]);
        break;
      case 'c':
        sink.closed(line);
        break;
      case 'h':
        if (line.length === 1) sink.heartbeat?.();
        break;
      default:
        sink.failed(new Error(`unexpected frame ${line.slice(0, 40)}`));
    }
  }

  /** xhr-streaming: one receiving request, reopened when the server ends it. */
  stream(sink: FrameSink): void {
    if (this.ended) return;
    this.receiving = this.post(
      'xhr_streaming',
      '',
      (res) => {
        if (res.statusCode !== 200) {
          sink.failed(new Error(`xhr_streaming answered ${res.statusCode}`));
          res.resume();
          return;
        }
        res.setEncoding('utf8');
        let buffered = '';
        res.on('data', (chunk: string) => {
          buffered += chunk;
          let newline: number;
          while ((newline = buffered.indexOf('\n')) !== -1) {
            const line = buffered.slice(0, newline);
            buffered = buffered.slice(newline + 1);
            HttpSession.dispatch(line, sink);
          }
        });
        res.on('end', () => this.stream(sink));
      },
      (error) => {
        if (!this.ended) sink.failed(error);
      },
    );
  }

  /** xhr-polling: one request per frame, the next poll issued before the frame is handled. */
  poll(sink: FrameSink): void {
    if (this.ended) return;
    this.receiving = this.post(
      'xhr',
      '',
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          if (res.statusCode !== 200) {
            sink.failed(new Error(`xhr answered ${res.statusCode}`));
            return;
          }
          if (body[0] !== 'c') this.poll(sink);
          HttpSession.dispatch(body.trimEnd(), sink);
        });
      },
      (error) => {
        if (!this.ended) sink.failed(error);
      },
    );
  }

  /** Aborts the receiving request: the server closes the session at once. */
  abort(): void {
    this.ended = true;
    this.receiving?.destroy();
  }
}

export type Receive = 'stream' | 'poll';

function receiveModeOf(spec: ScenarioSpec): Receive {
  return spec.transport === 'xhr-polling' ? 'poll' : 'stream';
}

/** Opens one HTTP session and resolves at its open frame; `sink` gets what follows. */
export function openSession(
  session: HttpSession,
  mode: Receive,
  sink: Omit<FrameSink, 'opened'>,
  timeoutMs = OPEN_TIMEOUT_MS,
): Promise<HttpSession> {
  return withTimeout(
    new Promise<HttpSession>((resolve, reject) => {
      let open = false;
      const full: FrameSink = {
        opened: () => {
          open = true;
          resolve(session);
        },
        messages: (texts) => sink.messages(texts),
        closed: (frame) => (open ? sink.closed(frame) : reject(new Error(`closed at open: ${frame}`))),
        failed: (error) => (open ? sink.failed(error) : reject(error)),
        heartbeat: () => sink.heartbeat?.(),
      };
      if (mode === 'stream') session.stream(full);
      else session.poll(full);
    }),
    timeoutMs,
    'session open',
  );
}

export function newAgent(localAddress?: string): Agent {
  return new Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 1024, localAddress });
}

/**
 * `count` xhr-streaming sessions that only receive (the fan-out load), from `localAddress`;
 * resolves once all are open, with a function that aborts them.
 */
export async function openStreams(
  port: number,
  count: number,
  localAddress: string | undefined,
  onMessages: (texts: string[]) => void,
  onError: () => void,
): Promise<() => void> {
  const agent = newAgent(localAddress);
  const recorder = new Recorder();
  const sessions: HttpSession[] = [];
  await pooled(count, 50, async () => {
    const session = new HttpSession(agent, port, recorder);
    await openSession(session, 'stream', { messages: onMessages, closed: onError, failed: onError });
    sessions.push(session);
  });
  return () => {
    for (const session of sessions) session.abort();
    agent.destroy();
  };
}

/** Closed-loop echo: send a message with xhr_send, wait for its 204 and for the echo on the receiving side, repeat. */
export class XhrEcho implements Load {
  readonly recorder = new Recorder();
  private readonly agent = newAgent();
  private readonly sessions: HttpSession[] = [];
  private running = true;
  private readonly message: string;
  private readonly body: string;

  constructor(
    private readonly spec: ScenarioSpec,
    private readonly target: ClientTarget,
  ) {
    this.message = payload(spec.messageBytes);
    this.body = JSON.stringify([this.message]);
  }

  async setup(): Promise<void> {
    await pooled(this.spec.sessions, 25, async (index) => {
      const session = new HttpSession(this.agent, this.target.port, this.recorder);
      const schedule = SendSchedule.of(this.spec, index);
      // As sockjs-client does, a message goes only once the previous xhr_send has its
      // answer; and, being an echo, once the previous message came back.
      const sent: { at: number; waiting: number }[] = [];
      const settle = (message: { waiting: number }): void => {
        if (--message.waiting !== 0 || !this.running) return;
        if (schedule === null) send();
        else schedule.next(send);
      };
      const send = (): void => {
        if (!this.running) return;
        const message = { at: now(), waiting: 2 };
        sent.push(message);
        session.send(this.body, () => settle(message));
      };
      await openSession(
        session,
        receiveModeOf(this.spec),
        {
          messages: (texts) => {
            for (const text of texts) {
              const message = sent.shift();
              if (message === undefined || text !== this.message) {
                this.recorder.error();
                continue;
              }
              this.recorder.record(now() - message.at);
              settle(message);
            }
          },
          closed: () => this.recorder.error(),
          failed: () => this.recorder.error(),
        },
        this.spec.openTimeoutMs,
      );
      this.sessions.push(session);
      if (schedule !== null) return schedule.start(send);
      for (let i = 0; i < this.spec.inFlight; i++) send();
    });
  }

  openSessions(): number {
    return this.sessions.length;
  }

  async teardown(): Promise<void> {
    this.running = false;
    for (const session of this.sessions) session.abort();
    this.sessions.length = 0;
    this.agent.destroy();
    await delay(50);
  }
}

/** `sessions` loops of: open an xhr-streaming session, wait for `o`, abort it. */
export class XhrOpenClose implements Load {
  readonly recorder = new Recorder();
  private readonly agent = newAgent();
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
    const ignore = (): void => undefined;
    while (this.running) {
      const started = now();
      const session = new HttpSession(this.agent, this.target.port, this.recorder);
      try {
        await openSession(session, receiveModeOf(this.spec), {
          messages: ignore,
          closed: ignore,
          failed: ignore,
        });
        this.recorder.record(now() - started);
      } catch {
        // Counted, then slowed down so that a failing target cannot spin the loop.
        this.recorder.error();
        await delay(10);
      }
      session.abort();
    }
  }

  openSessions(): number {
    return 0;
  }

  async teardown(): Promise<void> {
    this.running = false;
    await withTimeout(Promise.all(this.loops), 2 * OPEN_TIMEOUT_MS, 'open/close loops to stop');
    this.agent.destroy();
  }
}

/** Idle xhr-streaming sessions, for memory per session and the CPU their heartbeats cost. */
export class XhrIdle implements Load {
  readonly recorder = new Recorder();
  private readonly agent = newAgent();
  private readonly sessions: HttpSession[] = [];

  constructor(
    private readonly spec: ScenarioSpec,
    private readonly target: ClientTarget,
  ) {}

  async setup(): Promise<void> {
    const ignore = (): void => undefined;
    await pooled(20, 5, async () => {
      const session = new HttpSession(this.agent, this.target.port, this.recorder);
      await openSession(session, receiveModeOf(this.spec), {
        messages: ignore,
        closed: ignore,
        failed: ignore,
      });
      session.abort();
    });
  }

  async openIdle(count: number): Promise<void> {
    const ignore = (): void => undefined;
    // Numbered after the sessions already open: the idle-scale runner opens them in steps.
    const first = this.sessions.length;
    await pooled(count, 50, async (index) => {
      const session = new HttpSession(
        this.agent,
        this.target.port,
        this.recorder,
        sourceAddress(first + index, this.spec),
      );
      await openSession(session, receiveModeOf(this.spec), {
        messages: ignore,
        // Counted as the websocket loads count theirs, and a session the server ends too.
        closed: () => this.recorder.error(),
        failed: ignore,
        heartbeat: () => this.recorder.count++,
      });
      this.sessions.push(session);
    });
  }

  closeIdle(count: number): void {
    // Aborted, it no longer reports its end: the server's closing it is not counted.
    for (const session of this.sessions.splice(this.sessions.length - count)) session.abort();
  }

  openSessions(): number {
    return this.sessions.length;
  }

  async teardown(): Promise<void> {
    for (const session of this.sessions) session.abort();
    this.sessions.length = 0;
    this.agent.destroy();
    await delay(50);
  }
}
