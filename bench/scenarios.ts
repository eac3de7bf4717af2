/**
 * What the benchmark measures: the targets (servers) and the scenarios (loads), as data.
 * Adding a target is one entry here plus one script in servers/.
 */

export type TargetName =
  | 'ours-express'
  | 'ours-express-fastpath'
  | 'ours-express-public'
  | 'ours-http'
  | 'ours-http-public'
  | 'ours-http-publish'
  | 'ours-router'
  | 'sockjs-node'
  | 'bare-ws'
  | 'bare-ws-ballast'
  | 'ws-write-floor'
  | 'ws-minimum'
  | 'bare-http'
  | 'express-baseline';

export interface TargetSpec {
  name: TargetName;
  /** Script under build/bench/servers/. */
  script: string;
  wire: 'sockjs' | 'raw-ws';
  /** Which scenarios it takes part in: websocket ones, HTTP ones, or both. */
  serves: { websocket: boolean; http: boolean };
  /** Run unless `--target` says otherwise. */
  byDefault: boolean;
  /**
   * Runs sockjs-express (through servers/library.ts): with `--baseline <ref>` it gets a twin,
   * `<name>@base`, running the same script on that commit's build of the library.
   */
  library: boolean;
  /** Environment variables set in the server process (the runner's own are passed on too). */
  env?: Readonly<Record<string, string>>;
  description: string;
}

const BOTH = { websocket: true, http: true };

/**
 * Read by the library: turns off everything that touches a dependency's private state, so
 * that the price of those tricks can be measured (`ours-http-public`, `ours-express-public`).
 * `BENCH_PUBLIC_ONLY=repeated-end` in the runner's environment turns off only the tricks it
 * names (lib/internals.ts), to measure one at a time.
 */
const PUBLIC_ONLY = { SOCKJS_EXPRESS_PUBLIC_ONLY: process.env['BENCH_PUBLIC_ONLY'] || '1' };

/** Every target, in the order they alternate. */
export const TARGETS: Readonly<Record<TargetName, TargetSpec>> = {
  'ours-express': {
    name: 'ours-express',
    script: 'ours-express.js',
    wire: 'sockjs',
    serves: BOTH,
    byDefault: true,
    library: true,
    description: 'sockjs-express mounted in an Express 5 app (`app.use("/echo", ...)`, attachUpgrade)',
  },
  'ours-express-fastpath': {
    name: 'ours-express-fastpath',
    script: 'ours-express-fastpath.js',
    wire: 'sockjs',
    // Websockets take the same path with or without fastPath: only HTTP scenarios differ.
    serves: { websocket: false, http: true },
    byDefault: true,
    library: true,
    description: 'as ours-express, with `fastPath: true`',
  },
  'ours-express-public': {
    name: 'ours-express-public',
    script: 'ours-express.js',
    wire: 'sockjs',
    serves: BOTH,
    byDefault: false,
    library: true,
    env: PUBLIC_ONLY,
    description:
      'as ours-express, with `SOCKJS_EXPRESS_PUBLIC_ONLY=1`: no use of private state of dependencies',
  },
  'ours-http': {
    name: 'ours-http',
    script: 'ours-http.js',
    wire: 'sockjs',
    serves: BOTH,
    byDefault: true,
    library: true,
    description:
      'sockjs-express on a plain http server: `createServer().installHandlers(server, { prefix })`',
  },
  'ours-http-public': {
    name: 'ours-http-public',
    script: 'ours-http.js',
    wire: 'sockjs',
    serves: BOTH,
    byDefault: false,
    library: true,
    env: PUBLIC_ONLY,
    description: 'as ours-http, with `SOCKJS_EXPRESS_PUBLIC_ONLY=1`: no use of private state of dependencies',
  },
  'ours-http-publish': {
    name: 'ours-http-publish',
    script: 'ours-http.js',
    wire: 'sockjs',
    serves: BOTH,
    byDefault: true,
    library: true,
    // Fan-out scenarios only (takesPart): the other targets broadcast with a loop.
    env: { BENCH_FANOUT: 'publish' },
    description: 'as ours-http, broadcasting with `createBroker().publish()` (fan-out scenarios only)',
  },
  'ours-router': {
    name: 'ours-router',
    script: 'ours-router.js',
    wire: 'sockjs',
    serves: BOTH,
    byDefault: false,
    library: true,
    description: 'sockjs-express in a bare Express Router (no app) called from the http `request` listener',
  },
  'sockjs-node': {
    name: 'sockjs-node',
    script: 'sockjs-node.js',
    wire: 'sockjs',
    serves: BOTH,
    byDefault: true,
    library: false,
    description: 'sockjs@0.3.24, `installHandlers` on a plain http server',
  },
  'bare-ws': {
    name: 'bare-ws',
    script: 'bare-ws.js',
    wire: 'raw-ws',
    serves: { websocket: true, http: false },
    byDefault: true,
    library: false,
    description:
      'ws@8 echo server, no SockJS framing, pinging idle sockets every 25 s (floor for websocket scenarios)',
  },
  'bare-ws-ballast': {
    name: 'bare-ws-ballast',
    script: 'bare-ws.js',
    wire: 'raw-ws',
    serves: { websocket: true, http: false },
    byDefault: false,
    library: false,
    // Idle scenarios only (takesPart): what a session's heap costs the idle heartbeats.
    env: { BENCH_SOCKET_BALLAST: '3' },
    description:
      'bare ws keeping 7 small objects (about 0.65 KB of heap) per socket, about what a SockJS session holds on top (idle websocket scenarios only)',
  },
  'ws-write-floor': {
    name: 'ws-write-floor',
    script: 'ws-write-floor.js',
    wire: 'raw-ws',
    serves: { websocket: true, http: false },
    byDefault: true,
    library: false,
    description:
      'ws for the handshake, then one frame built per message and the same bytes written to every socket (websocket fan-out only: the floor of broadcasting)',
  },
  'ws-minimum': {
    name: 'ws-minimum',
    script: 'ws-minimum.js',
    wire: 'sockjs',
    serves: { websocket: true, http: false },
    byDefault: false,
    library: false,
    description:
      'bare ws plus the open frame and the client address reads every SockJS session needs (websocket open + close only)',
  },
  'bare-http': {
    name: 'bare-http',
    script: 'bare-http.js',
    wire: 'sockjs',
    serves: { websocket: false, http: true },
    byDefault: true,
    library: false,
    description: 'node:http server with near-empty xhr handlers (floor for HTTP echo scenarios)',
  },
  'express-baseline': {
    name: 'express-baseline',
    script: 'express-baseline.js',
    wire: 'sockjs',
    serves: BOTH,
    byDefault: true,
    library: false,
    description:
      'Express 5 app with the same near-empty handlers, and upgrades routed through it to ws as in `ws-minimum` (the Express floor for HTTP echo scenarios and websocket open + close)',
  },
};

/** A library target's twin in a `--baseline` run: the same script on the baseline's library. */
export type BaselineTarget = `${TargetName}@base`;

/** What runs in a run: a target, or a library target's baseline twin. */
export type RunTarget = TargetName | BaselineTarget;

const BASELINE_SUFFIX = '@base';

export function baselineOf(target: TargetName): BaselineTarget {
  return `${target}${BASELINE_SUFFIX}`;
}

export function isBaseline(target: RunTarget): target is BaselineTarget {
  return target.endsWith(BASELINE_SUFFIX);
}

/** The target a run target is, or is the twin of. */
export function currentOf(target: RunTarget): TargetName {
  return (isBaseline(target) ? target.slice(0, -BASELINE_SUFFIX.length) : target) as TargetName;
}

/** A target and, with a baseline, its twin right after it: the order runs alternate in. */
export function withTwins(targets: readonly TargetName[], baseline: boolean): RunTarget[] {
  return targets.flatMap((t) => (baseline && TARGETS[t].library ? [t, baselineOf(t)] : [t]));
}

export type Transport = 'websocket' | 'xhr-streaming' | 'xhr-polling';

/**
 * `echo`: closed-loop echo, `inFlight` messages per session; the figure is per message.
 * `open-close`: `sessions` loops, each opening a session, waiting for the open frame and
 * closing it; the figure is per session.
 * `idle-memory`: opens `sessions` idle sessions; the figure is memory per session.
 * `idle-cpu`: opens `sessions` idle sessions and measures the server's CPU over a long
 * window while only heartbeats flow; the figure is CPU time per second.
 * `fan-out`: opens `sessions` sessions that only receive; the server sends messages to all
 * of them, one at a time; the figure is server CPU per delivered message (one message to
 * one session), and the latency the time until the last session has it.
 */
export type ScenarioKind = 'echo' | 'open-close' | 'idle-memory' | 'idle-cpu' | 'fan-out';

export interface ScenarioSpec {
  id: string;
  title: string;
  transport: Transport;
  kind: ScenarioKind;
  sessions: number;
  inFlight: number;
  messageBytes: number;
  /** Run by default; the others with `--all` or `--scenario`. */
  byDefault: boolean;
  /** A measured window of its own (idle-cpu: whole heartbeat periods), instead of `--duration`. */
  windowMs?: number;
  /** At most this many repetitions, whatever `--reps` says: for scenarios of minutes per run. */
  maxReps?: number;
  /**
   * At least this many repetitions when `--reps` is not given (a full run): for short
   * figures that swing with the host from one run to the next, where more pairs steady
   * the median.
   */
  minReps?: number;
  /**
   * Idle sessions the load generator opens from one loopback source address before it
   * moves to the next (127.0.0.2, ...); 25,000 when not set.
   */
  sessionsPerSourceAddress?: number;
  /** Fan-out: the audiences measured by default, one scenario each (`--fanout-sizes`). */
  fanOutSizes?: readonly number[];
  /**
   * Echo at a fixed offered load: the sessions together start at most this
   * many round trips a second, each session on a schedule of its own. Below every target's capacity, each
   * server sees the same traffic, as from users who do not hurry for a faster server;
   * without it a session sends again as soon as its last round trip is done.
   */
  offeredPerSecond?: number;
  /**
   * How long the load generator waits for a session to open, 10 s when not set: longer for
   * a server under valgrind (bench:message-instructions), which takes seconds for the
   * first requests of an Express app.
   */
  openTimeoutMs?: number;
}

/**
 * A fan-out scenario per audience size: `ws-fanout` with sizes 1000 and 5000 runs as
 * `ws-fanout-1000` and `ws-fanout-5000`. Other scenarios stay as they are.
 */
export function bySize(spec: ScenarioSpec, sizes: readonly number[] | null): ScenarioSpec[] {
  if (spec.kind !== 'fan-out') return [spec];
  return (sizes ?? spec.fanOutSizes ?? [spec.sessions]).map((sessions) => ({
    ...spec,
    id: `${spec.id}-${sessions}`,
    title: `${spec.title}, ${sessions.toLocaleString('en-US')} sessions`,
    sessions,
  }));
}

/**
 * Repetitions of the open + close scenarios in a full run. Their figure is a few seconds
 * of session setup; on a shared virtual machine consecutive runs of the same server
 * differ by up to 2x, and three pairs were not enough for a steady median.
 */
const OPEN_CLOSE_REPS = 7;

/**
 * Repetitions of the xhr echo scenarios in a full run, which four goals are judged on. On
 * this kind of host every server's figure has two levels, minutes apart (an Express app's
 * xhr-polling round trip 240 or 400 µs, sockjs-node's 78 or 138 µs, in one run of three
 * repetitions): five pairs let the median ratio stand on pairs measured at one level.
 */
const XHR_ECHO_REPS = 5;

/**
 * Repetitions of the websocket echoes and fan-out in a full run, whose goals (at most
 * 1.10x and 1.00x of bare ws, 1.0x of its loop) sit within a few percent of the figures:
 * three pairs read 0.96x, 1.18x and 1.19x for ping-pong in one run, and one slow process
 * moved the median past the line. Five pairs need two such processes to move it.
 */
const WS_GOAL_REPS = 5;

/** Idle-cpu runs warm up at least this long after their sessions are open. */
export const IDLE_CPU_WARMUP_MS = 3000;

/** The targets a scenario can be run against, in the order they alternate. */
export function targetsFor(spec: ScenarioSpec): TargetName[] {
  return Object.values(TARGETS)
    .filter((target) => (spec.transport === 'websocket' ? target.serves.websocket : target.serves.http))
    .filter((target) => takesPart(target.name, spec))
    .map((target) => target.name);
}

/** Whether a target that serves the scenario's transport does everything the scenario needs. */
function takesPart(target: TargetName, spec: ScenarioSpec): boolean {
  // Broadcasting with the broker is a variant of the fan-out scenarios only.
  if (TARGETS[target].env?.['BENCH_FANOUT'] !== undefined) return spec.kind === 'fan-out';
  if (target === 'ws-write-floor') return spec.kind === 'fan-out';
  if (target === 'bare-ws-ballast') return spec.kind === 'idle-cpu' || spec.kind === 'idle-memory';
  // Fan-out compares the SockJS servers' broadcast with ws's; the minimal servers have no
  // sessions to broadcast to, and fastPath changes how requests are routed, not how an
  // open stream is written to.
  if (spec.kind === 'fan-out')
    return !isMinimal(target) && target !== 'ws-minimum' && target !== 'ours-express-fastpath';
  // Websocket open + close and nothing else a SockJS server does: no framing, no echo.
  if (target === 'ws-minimum' || (target === 'express-baseline' && spec.transport === 'websocket')) {
    return spec.kind === 'open-close';
  }
  // The minimal xhr servers echo and hold streams open; they cannot close sessions.
  if (isMinimal(target))
    return spec.kind === 'echo' || (target === 'bare-http' && spec.kind === 'idle-memory');
  return true;
}

/** The floor a scenario's targets are compared with, besides sockjs-node. */
export function floorFor(spec: ScenarioSpec): TargetName | null {
  // Bare ws pings its idle sockets once per heartbeat period, as a SockJS server must.
  if (spec.transport === 'websocket') return 'bare-ws';
  // The minimal servers implement the echo and hold streams open, but have no sessions to
  // close; bare-http holding idle streams is the floor of their memory.
  return spec.kind === 'echo' || spec.kind === 'idle-memory' ? 'bare-http' : null;
}

/** The two near-empty xhr servers: floors, not SockJS servers. */
function isMinimal(target: TargetName): boolean {
  return target === 'bare-http' || target === 'express-baseline';
}

/** The xhr echoes: 50 sessions, one 32-byte message in flight each. */
const XHR_ECHO = {
  kind: 'echo',
  sessions: 50,
  inFlight: 1,
  messageBytes: 32,
  byDefault: true,
  minReps: XHR_ECHO_REPS,
} as const;

/** The 50-session polling echo, and the base of its run at a fixed offered load. */
const XHR_POLLING: ScenarioSpec = {
  ...XHR_ECHO,
  id: 'xhr-polling',
  title: 'xhr-polling + xhr_send, 32-byte round trips, 50 sessions',
  transport: 'xhr-polling',
};

/** The 100-session websocket ping-pong, and the base of its run at a fixed offered load. */
const WS_PINGPONG: ScenarioSpec = {
  id: 'ws-pingpong',
  title: 'websocket, 32-byte ping-pong, 100 sessions',
  transport: 'websocket',
  kind: 'echo',
  sessions: 100,
  inFlight: 1,
  messageBytes: 32,
  byDefault: true,
  minReps: WS_GOAL_REPS,
};

export const SCENARIOS: readonly ScenarioSpec[] = [
  WS_PINGPONG,
  {
    // The same ping-pong at one offered load for every target. In the closed loop above the
    // load generator or the server saturates by turns, and which one moves each server's
    // figure with how many messages a wake-up finds; at an offered load every server sees
    // the same traffic. 10,000 a second is under half of what the slowest target here
    // (sockjs-node, an Express app) keeps up with in the closed loop.
    ...WS_PINGPONG,
    id: 'ws-pingpong-paced',
    title: 'websocket, 32-byte ping-pong, 100 sessions, 10,000 a second offered',
    offeredPerSecond: 10_000,
  },
  {
    id: 'ws-pipelined',
    title: 'websocket, 32 bytes, 10 in flight per session, 100 sessions',
    transport: 'websocket',
    kind: 'echo',
    sessions: 100,
    inFlight: 10,
    messageBytes: 32,
    byDefault: true,
    minReps: WS_GOAL_REPS,
  },
  {
    id: 'ws-open-close',
    title: 'websocket session open + close, 10 at a time',
    transport: 'websocket',
    kind: 'open-close',
    sessions: 10,
    inFlight: 0,
    messageBytes: 0,
    byDefault: true,
    minReps: OPEN_CLOSE_REPS,
  },
  {
    id: 'ws-64k',
    title: 'websocket, 64 KiB ping-pong, 10 sessions',
    transport: 'websocket',
    kind: 'echo',
    sessions: 10,
    inFlight: 1,
    messageBytes: 64 * 1024,
    byDefault: true,
    minReps: WS_GOAL_REPS,
  },
  {
    id: 'ws-idle-memory',
    title: 'websocket idle sessions, memory per session',
    transport: 'websocket',
    kind: 'idle-memory',
    sessions: 5000,
    inFlight: 0,
    messageBytes: 0,
    byDefault: true,
  },
  {
    ...XHR_ECHO,
    id: 'xhr-streaming',
    title: 'xhr-streaming + xhr_send, 32-byte echo, 50 sessions',
    transport: 'xhr-streaming',
  },
  XHR_POLLING,
  {
    // The same round trips at one offered load for every target. In the closed loop above
    // the load generator saturates before the faster servers, so each server there sees
    // traffic of its own pace. 2,000 a second is under half of what the slowest target here
    // (an Express app) keeps up with.
    ...XHR_POLLING,
    id: 'xhr-polling-paced',
    title: 'xhr-polling + xhr_send, 32-byte round trips, 50 sessions, 2,000 a second offered',
    offeredPerSecond: 2000,
  },
  {
    id: 'ws-pingpong-1',
    title: 'websocket, 32-byte ping-pong, 1 session',
    transport: 'websocket',
    kind: 'echo',
    sessions: 1,
    inFlight: 1,
    messageBytes: 32,
    byDefault: true,
  },
  {
    id: 'xhr-streaming-1',
    title: 'xhr-streaming + xhr_send, 32-byte echo, 1 session',
    transport: 'xhr-streaming',
    kind: 'echo',
    sessions: 1,
    inFlight: 1,
    messageBytes: 32,
    byDefault: true,
  },
  {
    // Off by default: with one session no server is saturated, so every target pays its
    // wake-ups alike; at 50 sessions the load generator saturates before the faster servers.
    id: 'xhr-polling-1',
    title: 'xhr-polling + xhr_send, 32-byte round trips, 1 session',
    transport: 'xhr-polling',
    kind: 'echo',
    sessions: 1,
    inFlight: 1,
    messageBytes: 32,
    byDefault: false,
  },
  {
    id: 'xhr-streaming-64k',
    title: 'xhr-streaming + xhr_send, 64 KiB echo, 10 sessions',
    transport: 'xhr-streaming',
    kind: 'echo',
    sessions: 10,
    inFlight: 1,
    messageBytes: 64 * 1024,
    byDefault: true,
  },
  {
    id: 'xhr-streaming-open-close',
    title: 'xhr-streaming session setup, 10 at a time',
    transport: 'xhr-streaming',
    kind: 'open-close',
    sessions: 10,
    inFlight: 0,
    messageBytes: 0,
    byDefault: true,
    minReps: OPEN_CLOSE_REPS,
  },
  {
    id: 'xhr-streaming-idle-memory',
    title: 'xhr-streaming idle sessions, memory per session',
    transport: 'xhr-streaming',
    kind: 'idle-memory',
    sessions: 5000,
    inFlight: 0,
    messageBytes: 0,
    byDefault: true,
  },
  {
    id: 'ws-idle-heartbeat',
    title: 'websocket idle sessions with the default 25 s heartbeat, server CPU per second',
    transport: 'websocket',
    kind: 'idle-cpu',
    // Capped by the file descriptors this machine allows a process (see run.ts).
    sessions: 50_000,
    inFlight: 0,
    messageBytes: 0,
    byDefault: true,
    // Three whole heartbeat periods: sessions opened in a burst send their heartbeats in
    // bursts too, and a window of whole periods holds each session's heartbeats alike.
    windowMs: 75_000,
    maxReps: 2,
  },
  {
    id: 'ws-fanout',
    title: 'websocket fan-out: one 100-byte message to every session, one message at a time',
    transport: 'websocket',
    kind: 'fan-out',
    sessions: 1000,
    inFlight: 0,
    messageBytes: 100,
    byDefault: true,
    minReps: WS_GOAL_REPS,
    fanOutSizes: [1000, 5000, 15_000],
  },
  {
    id: 'xhr-streaming-fanout',
    title: 'xhr-streaming fan-out: one 100-byte message to every session, one message at a time',
    transport: 'xhr-streaming',
    kind: 'fan-out',
    sessions: 1000,
    inFlight: 0,
    messageBytes: 100,
    byDefault: true,
    fanOutSizes: [1000],
  },
];
