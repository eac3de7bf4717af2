import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import express from 'express';
import { sockjsMiddleware } from '../lib/index';

/**
 * The demo behind `npm start`: an echo service and a page that talks to it with the real
 * sockjs-client, served from the installed npm package (no CDN needed).
 */
const port = Number(process.env.PORT ?? 8080);
const clientDir = dirname(require.resolve('sockjs-client/dist/sockjs.min.js'));
const publicDir = join(__dirname, '..', '..', 'demo-app', 'public');

const echo = sockjsMiddleware({ sockjsUrl: '/sockjs.min.js' });
echo.on('connection', (conn) => {
  conn.on('data', (message: string) => conn.write(message));
});

const app = express();
app.use(express.static(clientDir));
app.use(express.static(publicDir));
app.use('/echo', echo);

const server = createServer(app);
server.listen(port, () => {
  console.log(`sockjs-express demo on http://localhost:${port}/`);
});
