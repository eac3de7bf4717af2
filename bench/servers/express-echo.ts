/** The Express targets: sockjs-express mounted in an Express application, with attachUpgrade. */
import { createServer } from 'node:http';
import express from 'express';
import { library } from './library';
import { ECHO_PATH, heartbeatMs, serve } from './serve';

const { attachUpgrade, sockjsMiddleware } = library('attachUpgrade', 'sockjsMiddleware');

export function serveExpressEcho(fastPath: boolean): void {
  const echo = sockjsMiddleware({
    sockjsUrl: 'http://127.0.0.1/sockjs.js',
    log: () => undefined,
    fastPath,
    heartbeatDelay: heartbeatMs(),
  });
  echo.on('connection', (conn) => conn.on('data', (message: string) => conn.write(message)));
  const app = express();
  app.use(ECHO_PATH, echo);
  const server = createServer(app);
  attachUpgrade(server);
  serve(server);
}
