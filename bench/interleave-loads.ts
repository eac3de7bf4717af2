/**
 * The loads `npm run bench:interleave` alternates between servers, each run in windows: a
 * window starts the load, stops starting new work at its end, and waits for what is on the
 * wire, so that the work it counts is done, and charged to its server, before the next
 * server's window begins.
 */
import type WebSocket from 'ws';
import { openSocket } from './load/websocket';
import { HttpSession, newAgent, openSession } from './load/xhr';
import { Recorder, SendSchedule, payload, pooled, withTimeout } from './load/common';
import { SCENARIOS, TARGETS, type ScenarioSpec, type TargetName } from './scenarios';

export interface WindowedLoad {
  /** Opens what the load keeps across windows (the ping-pong's sessions). */
  prepare(): Promise<void>;
  /**
   * Runs the load for `ms` and resolves with the units done (sessions opened and closed, or
   * messages echoed) once nothing is on the wire.
   */
  window(ms: number): Promise<number>;
  /** Closes what prepare() opened. */
  close(): void;
}

export const INTERLEAVED_SCENARIOS = [
  'ws-open-close',
  'ws-pingpong',
  'ws-pingpong-paced',
  'xhr-streaming',
  'xhr-polling',
] as const;
export type InterleavedScenario = (typeof INTERLEAVED_SCENARIOS)[number];

function specOf(id: InterleavedScenario): ScenarioSpec {
  const spec = SCENARIOS.find((candidate) => candidate.id === id);
  if (spec === undefined) throw new Error(`no scenario ${id}`);
  return spec;
}

/** The full run's open + close: `sessions` loops of open, close, wait for the close. */
function openClose(name: TargetName, port: number, spec: ScenarioSpec): WindowedLoad {
  const target = { name, port, wire: TARGETS[name].wire };
  const session = async (): Promise<void> => {
    const ws = await openSocket(target);
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    ws.close(1000);
    await withTimeout(closed, 10_000, 'websocket close');
  };
  return {
    prepare: async () => undefined,
    async window(ms) {
      const until = Date.now() + ms;
      let done = 0;
      const loop = async (): Promise<void> => {
        while (Date.now() < until) {
          await session();
          done++;
        }
      };
      await Promise.all(Array.from({ length: spec.sessions }, loop));
      return done;
    },
    close: () => undefined,
  };
}

/**
 * One window of closed loops, one per session: its end, the units done, the loops still
 * running; `run()` resolves once every loop has stopped.
 */
class LoopWindow {
  done = 0;
  private until = 0;
  private pending = 0;
  private ended: (() => void) | null = null;
  private failure: Error | null = null;

  /** Whether a loop that just finished a unit starts another. */
  get open(): boolean {
    return Date.now() < this.until && this.failure === null;
  }

  fail(error: Error): void {
    this.failure ??= error;
  }

  loopStopped(): void {
    if (--this.pending === 0) this.ended?.();
  }

  async run(ms: number, loops: number, start: () => void, what: string): Promise<number> {
    this.done = 0;
    this.pending = loops;
    this.until = Date.now() + ms;
    const ended = new Promise<void>((resolve) => (this.ended = resolve));
    start();
    await withTimeout(ended, ms + 10_000, what);
    this.ended = null;
    if (this.failure !== null) throw this.failure;
    return this.done;
  }
}

/**
 * The full run's ping-pong: `sessions` sessions opened once, each with one message on the
 * wire at a time during a window, sent again as soon as it is back or, at an offered load,
 * on the session's schedule. An echo that does not match is an error, not a unit.
 */
function pingPong(name: TargetName, port: number, spec: ScenarioSpec): WindowedLoad {
  const target = { name, port, wire: TARGETS[name].wire };
  const message = payload(spec.messageBytes);
  const wireMessage = target.wire === 'raw-ws' ? message : JSON.stringify([message]);
  /** A socket, its schedule (null in the closed loop) and its next send, made once. */
  interface Session {
    ws: WebSocket;
    schedule: SendSchedule | null;
    sendOrStop: () => void;
  }
  const sessions: Session[] = [];
  const current = new LoopWindow();

  const received = (session: Session, text: string): void => {
    if (text !== message) current.fail(new Error(`${name} echoed ${JSON.stringify(text.slice(0, 40))}`));
    else current.done++;
    if (session.schedule === null || !current.open) session.sendOrStop();
    else session.schedule.next(session.sendOrStop);
  };
  const listen = (session: Session): void => {
    if (target.wire === 'raw-ws') {
      session.ws.on('message', (data) => received(session, String(data)));
      return;
    }
    session.ws.on('message', (data) => {
      const frame = String(data);
      // Heartbeats pass by; anything else but a message frame is the server's mistake.
      if (frame === 'h') return;
      if (frame[0] !== 'a') {
        current.fail(new Error(`${name} sent ${JSON.stringify(frame.slice(0, 40))}`));
        return;
      }
      for (const text of JSON.parse(frame.slice(1)) as string[]) received(session, text);
    });
  };

  return {
    async prepare() {
      await pooled(spec.sessions, 50, async (index) => {
        const ws = await openSocket(target);
        const sendOrStop = (): void => {
          if (current.open) ws.send(wireMessage);
          else current.loopStopped();
        };
        const session = { ws, schedule: SendSchedule.of(spec, index), sendOrStop };
        listen(session);
        sessions.push(session);
      });
    },
    window: (ms) =>
      current.run(
        ms,
        sessions.length,
        () => {
          for (const { ws, schedule, sendOrStop } of sessions) {
            if (schedule === null) ws.send(wireMessage);
            else schedule.start(sendOrStop);
          }
        },
        `${name}'s last echoes`,
      ),
    close() {
      for (const { ws } of sessions) ws.terminate();
      sessions.length = 0;
    },
  };
}

/**
 * The full run's closed-loop xhr echo: `sessions` sessions opened once on one keep-alive
 * agent, each sending with xhr_send and sending the next once the 204 and the echo are both
 * in, during a window. Their receiving requests (a held stream, or the next poll) stay open
 * between windows.
 */
function xhrEcho(name: TargetName, port: number, spec: ScenarioSpec): WindowedLoad {
  const message = payload(spec.messageBytes);
  const body = JSON.stringify([message]);
  const agent = newAgent();
  // Counts the sessions' failed requests; the window reads its errors.
  const recorder = new Recorder();
  const sends: (() => void)[] = [];
  const sessions: HttpSession[] = [];
  const current = new LoopWindow();

  const open = async (): Promise<void> => {
    const session = new HttpSession(agent, port, recorder);
    let waiting = 0;
    const settle = (): void => {
      if (--waiting !== 0) return;
      current.done++;
      if (current.open) send();
      else current.loopStopped();
    };
    const send = (): void => {
      waiting = 2;
      session.send(body, settle);
    };
    const fail = (what: string): void => current.fail(new Error(`${name}: ${what}`));
    await openSession(session, spec.transport === 'xhr-polling' ? 'poll' : 'stream', {
      messages: (texts) => {
        for (const text of texts) {
          if (text !== message || waiting === 0) fail(`echoed ${JSON.stringify(text.slice(0, 40))}`);
          else settle();
        }
      },
      closed: (frame) => fail(`closed the session: ${frame}`),
      failed: (error) => fail(error.message),
    });
    sessions.push(session);
    sends.push(send);
  };

  return {
    async prepare() {
      await pooled(spec.sessions, 25, open);
    },
    async window(ms) {
      recorder.reset();
      const start = (): void => {
        for (const send of sends) send();
      };
      const done = await current.run(ms, sends.length, start, `${name}'s last echoes`);
      if (recorder.errors > 0) throw new Error(`${name}: ${recorder.errors} failed requests`);
      return done;
    },
    close() {
      for (const session of sessions) session.abort();
      sessions.length = 0;
      agent.destroy();
    },
  };
}

export function windowedLoad(scenario: InterleavedScenario, name: TargetName, port: number): WindowedLoad {
  const spec = specOf(scenario);
  if (spec.transport === 'xhr-streaming' || spec.transport === 'xhr-polling')
    return xhrEcho(name, port, spec);
  return spec.kind === 'open-close' ? openClose(name, port, spec) : pingPong(name, port, spec);
}

/** Whether `name` can take part in `scenario`. */
export function serves(scenario: InterleavedScenario, name: TargetName): boolean {
  const { serves } = TARGETS[name];
  return specOf(scenario).transport === 'websocket' ? serves.websocket : serves.http;
}

/** What one unit of the scenario's figure is. */
export function unitOf(scenario: InterleavedScenario): string {
  return specOf(scenario).kind === 'open-close' ? 'session' : 'message';
}

export function titleOf(scenario: InterleavedScenario): string {
  return specOf(scenario).title;
}
