/**
 * The server the property tests run against: one process, several services, every fault
 * recorded; and what "settled" means once a property's clients are gone: no new session in
 * any store, no new open connection, no new socket on the server, no fault anywhere.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { attachUpgrade, sockjsMiddleware, type SockjsOptions, type SockjsRouter } from '../../lib/index';
import type { Connection } from '../../lib/session/connection';
import { heldSessionCount, heldSessions } from '../helpers/internals';
import { delay, listen, until, type TestServer } from '../helpers/server';

export const FUZZ_BODY_LIMIT = 64 * 1024;
export const FUZZ_DISCONNECT_MS = 200;
export const FLOW_DISCONNECT_MS = 1000;
/** The `origins` of the strict service, as patterns. */
export const ALLOWED_ORIGINS = [/^https:\/\/app\.example\.com$/i, /^https:\/\/[^/]*\.example\.org$/i];

type ServiceName = 'echo' | 'strict' | 'close' | 'parsed' | 'root' | 'flow' | 'abort';

/** What the flow and abort services record about one session, by session id. */
export interface SessionRecord {
  readonly conn: Connection;
  /** Messages the application got, in order. */
  readonly received: string[];
  closes: number;
  /** `data` events after `close` (must stay 0). */
  dataAfterClose: number;
}

export interface Bed {
  readonly server: TestServer;
  readonly url: string;
  readonly services: Record<ServiceName, SockjsRouter>;
  /** Lines the services logged with severity `error`. */
  readonly errorLog: string[];
  /** Errors that reached Express's error handler. */
  readonly expressErrors: unknown[];
  /** flow and abort sessions, by session id. */
  readonly sessions: Map<string, SessionRecord>;
  /** Every socket the server holds (upgraded ones too, which closeAllConnections() misses). */
  readonly sockets: Set<Socket>;
}

export const faults: unknown[] = [];
function recordFault(error: unknown): void {
  faults.push(error);
}

function sessionIdOf(conn: Connection): string {
  const parts = conn.pathname.split('/');
  return parts[parts.length - 2] ?? '';
}

async function startBed(): Promise<Bed> {
  const errorLog: string[] = [];
  const expressErrors: unknown[] = [];
  const sessions = new Map<string, SessionRecord>();
  const log = (severity: string, message: string): void => {
    if (severity === 'error') errorLog.push(message);
  };
  const common: SockjsOptions = {
    disconnectDelay: FUZZ_DISCONNECT_MS,
    bodyTimeout: 300,
    maxBodySize: FUZZ_BODY_LIMIT,
    responseLimit: 4096,
    log,
  };
  const echo = (conn: Connection): void => {
    conn.on('data', (message: string) => conn.write(message));
  };
  const recordAndEcho = (conn: Connection): void => {
    const record: SessionRecord = { conn, received: [], closes: 0, dataAfterClose: 0 };
    sessions.set(sessionIdOf(conn), record);
    conn.on('data', (message: string) => {
      if (record.closes > 0) record.dataAfterClose++;
      record.received.push(message);
      conn.write(message);
    });
    conn.on('close', () => record.closes++);
  };
  const make = (options: SockjsOptions, onConnection: (conn: Connection) => void): SockjsRouter => {
    const service = sockjsMiddleware(options);
    service.on('connection', onConnection);
    return service;
  };
  const services: Record<ServiceName, SockjsRouter> = {
    echo: make({ ...common, fastPath: true }, echo),
    strict: make(
      {
        ...common,
        origins: ['https://app.example.com', 'https://*.example.org'],
        jsessionid: { sameSite: 'Strict', secure: true, httpOnly: true },
        maxSessions: 8,
        transports: ['websocket', 'xhr-streaming', 'xhr-polling', 'eventsource', 'htmlfile'],
        fastPath: true,
      },
      echo,
    ),
    close: make(common, (conn) => conn.close(3000, 'Go away!')),
    parsed: make({ ...common, jsessionid: true }, echo),
    // At the root, with the default maxBodySize (1 MiB): what it does not answer goes on.
    root: make({ disconnectDelay: FUZZ_DISCONNECT_MS, bodyTimeout: 300, websocket: false, log }, echo),
    // Heartbeats every 10 ms and 64-byte responses: every receiving request ends by itself soon.
    // Its clients poll jsonp with neither Origin nor Referer, allowed only under origins: '*'.
    flow: make(
      { heartbeatDelay: 10, responseLimit: 64, disconnectDelay: FLOW_DISCONNECT_MS, origins: '*', log },
      recordAndEcho,
    ),
    // No heartbeats: a receiving request stays attached until the test aborts it.
    abort: make(
      { heartbeatDelay: 60_000, disconnectDelay: FLOW_DISCONNECT_MS, origins: '*', log },
      recordAndEcho,
    ),
  };

  const app = express();
  app.use('/echo', services.echo);
  app.use('/api', Router().use('/v1', Router().use('/strict', services.strict)));
  app.use('/close', services.close);
  app.use(
    '/parsed',
    express.json(),
    express.urlencoded({ extended: false }),
    express.text(),
    services.parsed,
  );
  app.use('/flow', services.flow);
  app.use('/abort', services.abort);
  app.use(services.root);
  app.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    const status = (error as { status?: unknown }).status;
    if (typeof status !== 'number' || status >= 500) expressErrors.push(error);
    if (res.headersSent) {
      next(error);
      return;
    }
    res.status(typeof status === 'number' ? status : 500).send(`express error: ${String(error)}`);
  });
  const http = createServer(app);
  const sockets = new Set<Socket>();
  http.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  attachUpgrade(http);
  const server = await listen(http);
  return { server, url: server.url, services, errorLog, expressErrors, sessions, sockets };
}

/** What was open before a test, so that a leak found earlier does not fail later tests. */
export interface Baseline {
  readonly sockets: ReadonlySet<Socket>;
  readonly sessions: ReadonlySet<unknown>;
  readonly connections: Readonly<Record<string, number>>;
}

export function baseline(bed: Bed): Baseline {
  const sessions = new Set<unknown>();
  const connections: Record<string, number> = {};
  for (const [name, service] of Object.entries(bed.services)) {
    for (const session of heldSessions(service)) sessions.add(session);
    connections[name] = service.stats().connections;
  }
  return { sockets: new Set(bed.sockets), sessions, connections };
}

function storeSizes(bed: Bed): string {
  return Object.entries(bed.services)
    .map(([name, service]) => `${name}: ${heldSessionCount(service)}/${service.stats().connections}`)
    .join(', ');
}

/**
 * Once every client is gone and disconnectDelay has passed: no new session in any store,
 * no new open connection in stats(), no new socket on the server, no fault anywhere.
 */
export async function assertSettled(bed: Bed, before: Baseline, timeout = 3000): Promise<void> {
  assert.deepEqual(faults, [], 'uncaught exceptions or unhandled rejections');
  assert.deepEqual(bed.errorLog, [], 'error lines in the service log');
  assert.deepEqual(bed.expressErrors, [], 'errors that reached Express');
  const settled = (): boolean =>
    Object.entries(bed.services).every(
      ([name, service]) =>
        heldSessions(service).every((session) => before.sessions.has(session)) &&
        service.stats().connections <= (before.connections[name] ?? 0),
    );
  try {
    await until(settled, timeout, 'every session store to empty');
  } catch {
    assert.fail(`sessions left (store/open connections): ${storeSizes(bed)}`);
  }
  const left = await socketsLeft(bed, before, timeout);
  assert.equal(left, 0, 'sockets left open on the server');
}

/** Waits up to `timeout` ms for the sockets opened since `before` to close; how many did not. */
export async function socketsLeft(bed: Bed, before: Baseline, timeout: number): Promise<number> {
  const count = (): number => [...bed.sockets].filter((socket) => !before.sockets.has(socket)).length;
  const deadline = Date.now() + timeout;
  while (count() > 0 && Date.now() < deadline) await delay(10);
  return count();
}

/**
 * Starts the bed for one spec file; until closeBed(), uncaught exceptions and unhandled
 * rejections are recorded in `faults` (which the properties check) instead of ending the run.
 */
export async function openBed(): Promise<Bed> {
  process.on('uncaughtException', recordFault);
  process.on('unhandledRejection', recordFault);
  return startBed();
}

/** Closes every service, socket and the server of `bed`; faults are no longer recorded. */
export async function closeBed(bed: Bed): Promise<void> {
  for (const service of Object.values(bed.services)) await service.close();
  for (const socket of bed.sockets) socket.destroy();
  await bed.server.close();
  process.off('uncaughtException', recordFault);
  process.off('unhandledRejection', recordFault);
}
