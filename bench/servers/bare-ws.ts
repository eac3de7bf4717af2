/**
 * Target `bare-ws`: a plain ws@8 echo server, no SockJS framing, with ws's documented
 * ping heartbeat: the floor for the websocket scenarios. Text stays text: a message goes back as the Buffer it arrived in.
 */
import { createServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { ECHO_PATH, heartbeatMs, serve } from './serve';

const server = createServer((_req, res) => {
  res.statusCode = 404;
  res.end();
});
/** The heartbeat period of SockJS servers (sockjs-node's and ours): 25 s unless the runner shortens it. */
const HEARTBEAT_MS = heartbeatMs() ?? 25_000;

const wss = new WebSocketServer({ server, path: ECHO_PATH, clientTracking: false });
// Shared listeners and a Set: ws's own client tracking adds a closure per socket.
const sockets = new Set<WebSocket>();
/** Sockets pinged and not heard from since. */
const unanswered = new WeakSet<WebSocket>();
function answered(this: WebSocket): void {
  unanswered.delete(this);
}
function forget(this: WebSocket): void {
  sockets.delete(this);
}
wss.on('connection', (ws) => {
  sockets.add(ws);
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
serve(server);
