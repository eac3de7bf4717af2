/** Target `sockjs-node`: the reference server, sockjs@0.3.24, on a plain http server. */
import { createRequire } from 'node:module';
import { createServer, type Server } from 'node:http';
import { ECHO_PATH, heartbeatMs, serve } from './serve';

interface SockjsNodeConnection {
  on(event: 'data', listener: (message: string) => void): void;
  write(message: string): boolean;
}
interface SockjsNodeServer {
  on(event: 'connection', listener: (conn: SockjsNodeConnection) => void): void;
  installHandlers(server: Server, options: { prefix: string }): void;
}
interface SockjsNode {
  createServer(options: { log: () => void; sockjs_url: string; heartbeat_delay?: number }): SockjsNodeServer;
}

// sockjs ships no types; a local interface names what the benchmark uses.
const sockjs = createRequire(__filename)('sockjs') as SockjsNode;

const echo = sockjs.createServer({
  log: () => undefined,
  sockjs_url: 'http://127.0.0.1/sockjs.js',
  // Its default, 25 s, when the runner does not shorten it.
  heartbeat_delay: heartbeatMs() ?? 25_000,
});
echo.on('connection', (conn) => conn.on('data', (message) => conn.write(message)));

const server = createServer();
echo.installHandlers(server, { prefix: ECHO_PATH });
serve(server);
