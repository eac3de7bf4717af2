/**
 * Target `express-baseline`: an Express application answering the benchmark's requests
 * with next to nothing behind the routes, the Express floor. HTTP scenarios: the minimal
 * xhr handlers (see minimal-xhr.ts). Websocket open + close: each upgrade goes through the
 * app, as any Express deployment whose middleware must see websockets does, and its route
 * hands the socket to ws with no more than ws-minimum.ts does per session.
 */
import { createServer, ServerResponse, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import express, { type Request, type Response } from 'express';
import { WebSocketServer } from 'ws';
import { ECHO_PATH, serve } from './serve';
import { xhrPoll, xhrSend, xhrStreaming } from './minimal-xhr';

/** `o` as an unmasked text frame. */
const OPEN_FRAME = Buffer.from([0x81, 0x01, 0x6f]);

const wss = new WebSocketServer({ noServer: true, clientTracking: false });
/** The bytes read past each upgrade request's head, for the route that takes it. */
const heads = new WeakMap<IncomingMessage, Buffer>();
/** Where each client came from, as a SockJS connection reports it. */
const origins = new WeakMap<object, [string | undefined, number | undefined, object]>();

const app = express();
app.post(`${ECHO_PATH}/:server/:session/xhr_streaming`, (req: Request, res: Response) =>
  xhrStreaming(req.params.session as string, res),
);
app.post(`${ECHO_PATH}/:server/:session/xhr`, (req: Request, res: Response) =>
  xhrPoll(req.params.session as string, res),
);
app.post(`${ECHO_PATH}/:server/:session/xhr_send`, (req: Request, res: Response) =>
  xhrSend(req.params.session as string, req, res),
);
app.get(`${ECHO_PATH}/:server/:session/websocket`, (req: Request) => {
  const socket = req.socket;
  socket.cork();
  wss.handleUpgrade(req, socket, heads.get(req) ?? Buffer.alloc(0), (ws) => {
    origins.set(ws, [socket.remoteAddress, socket.remotePort, socket.address()]);
    ws.on('error', () => ws.terminate());
    socket.write(OPEN_FRAME);
  });
  socket.uncork();
});

const server = createServer(app);
server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
  heads.set(req, head);
  // Express needs a response object; an upgrade comes without one.
  const res = new ServerResponse(req);
  app(req as Request, res as Response, () => socket.destroy());
});
serve(server);
