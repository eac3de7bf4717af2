/**
 * Target `ws-minimum`: bare ws plus what the SockJS protocol and the sockjs-node API ask of
 * every websocket session that bare ws does without: the open frame `o`, sent in the same
 * write as the 101, and where the client comes from (`remoteAddress`, `remotePort`,
 * `address()`, two system calls). The floor of websocket session setup for any SockJS
 * server; it takes part in the websocket open + close scenario only (it frames nothing).
 */
import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import { ECHO_PATH, serve } from './serve';

/** `o` as an unmasked text frame. */
const OPEN_FRAME = Buffer.from([0x81, 0x01, 0x6f]);

const server = createServer((_req, res) => {
  res.statusCode = 404;
  res.end();
});
const wss = new WebSocketServer({ noServer: true, clientTracking: false });
/** Where each client came from, as a SockJS connection reports it. */
const origins = new WeakMap<object, [string | undefined, number | undefined, object]>();

server.on('upgrade', (req, socket: Socket, head: Buffer) => {
  if (!(req.url ?? '').startsWith(ECHO_PATH + '/')) {
    socket.destroy();
    return;
  }
  socket.cork();
  wss.handleUpgrade(req, socket, head, (ws) => {
    origins.set(ws, [socket.remoteAddress, socket.remotePort, socket.address()]);
    ws.on('error', () => ws.terminate());
    socket.write(OPEN_FRAME);
  });
  socket.uncork();
});
serve(server);
