/**
 * Target `ours-http`: sockjs-express on a plain Node http server through the sockjs-node
 * compatible API, deployed the way sockjs-node is: `createServer().installHandlers()`.
 */
import { createServer as createHttpServer } from 'node:http';
import { library } from './library';
import { ECHO_PATH, heartbeatMs, serve } from './serve';

const { createServer } = library('createServer');

const echo = createServer({
  sockjs_url: 'http://127.0.0.1/sockjs.js',
  log: () => undefined,
  heartbeatDelay: heartbeatMs(),
});
echo.on('connection', (conn) => conn.on('data', (message: string) => conn.write(message)));

const server = createHttpServer((_req, res) => {
  res.statusCode = 404;
  res.end();
});
echo.installHandlers(server, { prefix: ECHO_PATH });
serve(server);
