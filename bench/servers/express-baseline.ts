/**
 * Target `express-baseline`: an Express application answering the requests of the HTTP
 * scenarios with next to nothing behind the routes (see minimal-xhr.ts): the Express floor.
 */
import { createServer } from 'node:http';
import express, { type Request, type Response } from 'express';
import { ECHO_PATH, serve } from './serve';
import { xhrPoll, xhrSend, xhrStreaming } from './minimal-xhr';

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

const server = createServer(app);
serve(server);
