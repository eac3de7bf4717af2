/**
 * Target `ws-write-floor` (fan-out only): the least a websocket server can do to send one
 * message to every socket. ws makes the handshake; after it, the server keeps the socket
 * the `upgrade` event gave it and, for each message, builds the frame's bytes once and
 * writes that one Buffer to every socket: one `write` per socket and nothing else. Bare
 * ws's loop of `ws.send()` frames the message again for each socket; no server can go below
 * this.
 */
import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import { ECHO_PATH, serve } from './serve';

const server = createServer((_req, res) => {
  res.statusCode = 404;
  res.end();
});
const wss = new WebSocketServer({ noServer: true, clientTracking: false });
const sockets = new Set<Socket>();

server.on('upgrade', (req, socket: Socket, head: Buffer) => {
  if (req.url !== ECHO_PATH) {
    socket.destroy();
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    sockets.add(socket);
    ws.on('error', () => ws.terminate());
    ws.on('close', () => sockets.delete(socket));
  });
});

/** An unmasked text frame carrying `text` (fan-out messages are under 64 KiB). */
function textFrame(text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const header =
    payload.length < 126
      ? Buffer.from([0x81, payload.length])
      : Buffer.from([0x81, 126, payload.length >> 8, payload.length & 0xff]);
  return Buffer.concat([header, payload]);
}

serve(server, (message) => {
  const frame = textFrame(message);
  for (const socket of sockets) socket.write(frame);
});
