/**
 * Target `ours-router`: sockjs-express on a plain Node http server, with no Express
 * application: `sockjsMiddleware()` in a bare Express Router called straight from the
 * `request` listener (what `ours-http` measured before the compatible API existed).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Router, type Request, type Response } from 'express';
import { library } from './library';
import { ECHO_PATH, serve } from './serve';

const { attachUpgrade, sockjsMiddleware } = library('attachUpgrade', 'sockjsMiddleware');

const echo = sockjsMiddleware({ sockjsUrl: 'http://127.0.0.1/sockjs.js', log: () => undefined });
echo.on('connection', (conn) => conn.on('data', (message: string) => conn.write(message)));

const router = Router();
router.use(ECHO_PATH, echo);

function notFound(res: ServerResponse): void {
  res.statusCode = 404;
  res.end();
}

const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  router(req as Request, res as Response, () => notFound(res));
});
// attachUpgrade emits upgrades as 'request' on the server: the listener above serves them.
attachUpgrade(server);
serve(server);
