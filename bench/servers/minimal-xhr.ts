/**
 * The least an xhr echo can do over HTTP, shared by the two floors of the HTTP scenarios
 * (`bare-http` on node:http, `express-baseline` in an Express app): xhr_send reads the
 * body (already a JSON array of strings, so `a` + body is a message frame) and hands it to
 * the session's held streaming response or poll. No escaping, no CORS, no cache headers,
 * no session expiry, and no heartbeats unless the idle-scale runner asks for them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { runnerHeartbeatMs } from './serve';

const PRELUDE = 'h'.repeat(2048) + '\n';
const RESPONSE_LIMIT = 128 * 1024;
const HEADERS = { 'Content-Type': 'application/javascript; charset=UTF-8' };

interface Session {
  stream: ServerResponse | null;
  streamBytes: number;
  poll: ServerResponse | null;
  /** Bodies (JSON arrays) waiting for the next poll. */
  queue: string[];
}

const sessions = new Map<string, Session>();

/**
 * Heartbeats only where the idle-scale runner asks for them (BENCH_HEARTBEAT_MS): one
 * shared timer writes `h` to every held stream each period, the least a server can do to
 * keep idle streams alive. That makes this the floor of the idle xhr-streaming sessions'
 * heartbeat CPU; every other scenario runs as before, with none.
 */
const HEARTBEAT_MS = runnerHeartbeatMs();
if (HEARTBEAT_MS !== undefined) {
  setInterval(() => {
    for (const s of sessions.values()) if (s.stream !== null) s.stream.write('h\n');
  }, HEARTBEAT_MS).unref();
}

function session(id: string): { session: Session; created: boolean } {
  let found = sessions.get(id);
  const created = found === undefined;
  if (found === undefined) {
    found = { stream: null, streamBytes: 0, poll: null, queue: [] };
    sessions.set(id, found);
  }
  return { session: found, created };
}

function frameOf(bodies: string[]): string {
  if (bodies.length === 1) return 'a' + bodies[0];
  return 'a[' + bodies.map((body) => body.slice(1, -1)).join(',') + ']';
}

/** `POST .../xhr_streaming` */
export function xhrStreaming(id: string, res: ServerResponse): void {
  const { session: s, created } = session(id);
  res.writeHead(200, HEADERS);
  res.write(PRELUDE);
  if (created) res.write('o\n');
  s.stream = res;
  s.streamBytes = 0;
  if (s.queue.length > 0) {
    res.write(frameOf(s.queue) + '\n');
    s.queue = [];
  }
  res.on('close', () => {
    if (s.stream === res) s.stream = null;
  });
}

/** `POST .../xhr` */
export function xhrPoll(id: string, res: ServerResponse): void {
  const { session: s, created } = session(id);
  if (created) {
    res.writeHead(200, HEADERS).end('o\n');
  } else if (s.queue.length > 0) {
    res.writeHead(200, HEADERS).end(frameOf(s.queue) + '\n');
    s.queue = [];
  } else {
    s.poll = res;
    res.on('close', () => {
      if (s.poll === res) s.poll = null;
    });
  }
}

/** `POST .../xhr_send` */
export function xhrSend(id: string, req: IncomingMessage, res: ServerResponse): void {
  const s = sessions.get(id);
  if (s === undefined) {
    res.writeHead(404).end();
    return;
  }
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk: string) => (body += chunk));
  req.on('end', () => {
    res.writeHead(204).end();
    if (s.stream !== null) {
      const frame = 'a' + body + '\n';
      s.stream.write(frame);
      s.streamBytes += frame.length;
      if (s.streamBytes >= RESPONSE_LIMIT) {
        s.stream.end();
        s.stream = null;
      }
    } else if (s.poll !== null) {
      s.poll.writeHead(200, HEADERS).end('a' + body + '\n');
      s.poll = null;
    } else {
      s.queue.push(body);
    }
  });
}
