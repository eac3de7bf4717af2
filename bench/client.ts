/**
 * The load generator: its own process, driven by the runner over IPC. It speaks the SockJS
 * wire protocol itself (no sockjs-client): websocket, xhr-streaming and xhr-polling.
 */
import type { ClientTarget, LoadResult } from './ipc';
import { serveRequests } from './ipc';
import type { ScenarioSpec } from './scenarios';
import { delay, type Load } from './load/common';
import { WebsocketEcho, WebsocketIdle, WebsocketOpenClose } from './load/websocket';
import { XhrEcho, XhrIdle, XhrOpenClose } from './load/xhr';
import { FanOut } from './load/fan-out';

function createLoad(spec: ScenarioSpec, target: ClientTarget): Load {
  if (spec.kind === 'fan-out') return new FanOut(spec, target);
  if (spec.transport === 'websocket') {
    if (spec.kind === 'echo') return new WebsocketEcho(spec, target);
    if (spec.kind === 'open-close') return new WebsocketOpenClose(spec, target);
    return new WebsocketIdle(spec, target);
  }
  if (spec.kind === 'echo') return new XhrEcho(spec, target);
  if (spec.kind === 'open-close') return new XhrOpenClose(spec, target);
  return new XhrIdle(spec, target);
}

let load: Load | null = null;

function current(): Load {
  if (load === null) throw new Error('no scenario set up');
  return load;
}

type Request =
  | { type: 'setup'; spec: ScenarioSpec; target: ClientTarget }
  | { type: 'measure'; durationMs: number }
  | { type: 'window-start' }
  | { type: 'window-end' }
  | { type: 'open-idle'; sessions: number }
  | { type: 'close-idle'; sessions: number }
  | { type: 'fanout-arrival'; index: number; timeoutMs: number }
  | { type: 'teardown' }
  | { type: 'exit' };

serveRequests(async (message) => {
  const request = message as unknown as Request;
  switch (request.type) {
    case 'setup': {
      if (load !== null) await load.teardown();
      load = createLoad(request.spec, request.target);
      await load.setup();
      return true;
    }
    case 'measure': {
      const active = current();
      active.recorder.reset();
      await delay(request.durationMs);
      return active.recorder.result(active.openSessions()) satisfies LoadResult;
    }
    // A window of the runner's own length: the instruction runners (counted-window.ts) end
    // it when the server's instrumented span ends, which no fixed duration would match.
    case 'window-start': {
      current().recorder.reset();
      return true;
    }
    case 'window-end': {
      const active = current();
      return active.recorder.result(active.openSessions()) satisfies LoadResult;
    }
    case 'open-idle': {
      const active = current();
      active.recorder.reset();
      if (active.openIdle === undefined) throw new Error('not an idle scenario');
      await active.openIdle(request.sessions);
      return active.recorder.result(active.openSessions()) satisfies LoadResult;
    }
    case 'close-idle': {
      const active = current();
      if (active.closeIdle === undefined) throw new Error('not an idle scenario');
      active.closeIdle(request.sessions);
      return active.recorder.result(active.openSessions()) satisfies LoadResult;
    }
    case 'fanout-arrival': {
      const active = current();
      if (!(active instanceof FanOut)) throw new Error('not a fan-out scenario');
      return active.arrival(request.index, request.timeoutMs);
    }
    case 'teardown': {
      const active = load;
      load = null;
      if (active !== null) await active.teardown();
      return true;
    }
    case 'exit':
      setImmediate(() => process.exit(0));
      return true;
  }
});
