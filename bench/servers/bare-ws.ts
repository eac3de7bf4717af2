/**
 * Target `bare-ws`: a plain ws@8 echo server, no SockJS framing, with ws's documented
 * ping heartbeat: the floor for the websocket scenarios. Text stays text: a message goes back as the Buffer it arrived in.
 */
import { createServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { ECHO_PATH, serve } from './serve';
import { heartbeatMs } from './broadcast';

const server = createServer((_req, res) => {
  res.statusCode = 404;
  res.end();
});
/** The heartbeat period of SockJS servers (sockjs-node's and ours): 25 s; longer in fan-out runs. */
const HEARTBEAT_MS = heartbeatMs(25_000);

const wss = new WebSocketServer({ server, path: ECHO_PATH, clientTracking: false });
// Shared listeners and a Set: ws's own client tracking adds a closure per socket.
const sockets = new Set<WebSocket>();
/** Sockets pinged and not heard from since. */
const unanswered = new WeakSet<WebSocket>();
function answered(this: WebSocket): void {
  unanswered.delete(this);
}
/**
 * Target `bare-ws-ballast`: records kept per socket, each a small object and an empty array,
 * as a session's state is. What the extra heap alone costs idle heartbeats, where the
 * collector works over the whole heap.
 */
const BALLAST = Number(process.env['BENCH_SOCKET_BALLAST'] ?? 0);
const ballast = new Map<WebSocket, object[]>();
function ballastRecords(): object[] {
  const records: object[] = [];
  for (let i = 0; i < BALLAST; i++)
    records.push({ a: i, b: null, c: null, d: 1.5 + i, e: [], f: i, g: i, h: i, i, j: i });
  return records;
}
function forget(this: WebSocket): void {
  sockets.delete(this);
  if (BALLAST > 0) ballast.delete(this);
}
wss.on('connection', (ws) => {
  sockets.add(ws);
  if (BALLAST > 0) ballast.set(ws, ballastRecords());
  ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
  ws.on('pong', answered);
  ws.on('close', forget);
  ws.on('error', () => ws.terminate());
});
// Dead-peer detection as ws documents it: one shared timer pings every socket each period
// and drops those that left the last ping unanswered. Idle sockets then cost what a SockJS
// server's heartbeats must cost at least, which makes this the floor of ws-idle-heartbeat;
// the other scenarios' windows are shorter than one period.
setInterval(() => {
  for (const ws of sockets) {
    if (unanswered.has(ws)) {
      ws.terminate();
      continue;
    }
    unanswered.add(ws);
    ws.ping();
  }
}, HEARTBEAT_MS).unref();
// Fan-out runs: ws's own way, a loop of ws.send() over the open sockets (already tracked
// for the pings, so the other scenarios are unchanged).
serve(server, (message) => {
  for (const ws of sockets) ws.send(message);
});
