/**
 * Target `ours-express-fastpath`: as `ours-express`, with the `fastPath` option: the
 * follow-up requests of existing sessions (sends, polls) are served before the Express app.
 */
import { createServer } from 'node:http';
import express from 'express';
import { attachUpgrade, sockjsMiddleware } from '../../lib/index';
import { ECHO_PATH, serve } from './serve';

const echo = sockjsMiddleware({
  sockjsUrl: 'http://127.0.0.1/sockjs.js',
  log: () => undefined,
  fastPath: true,
});
echo.on('connection', (conn) => conn.on('data', (message: string) => conn.write(message)));

const app = express();
app.use(ECHO_PATH, echo);
const server = createServer(app);
attachUpgrade(server);
serve(server);
