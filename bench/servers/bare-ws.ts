/**
 * Target `bare-ws`: a plain ws@8 echo server, no SockJS framing: the floor for the
 * websocket scenarios. Text stays text: a message goes back as the Buffer it arrived in.
 */
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';
import { ECHO_PATH, serve } from './serve';

const server = createServer((_req, res) => {
  res.statusCode = 404;
  res.end();
});
const wss = new WebSocketServer({ server, path: ECHO_PATH, clientTracking: false });
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
  ws.on('error', () => ws.terminate());
});
serve(server);
