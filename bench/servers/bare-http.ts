/**
 * Target `bare-http`: the requests of the HTTP scenarios answered on a plain node:http
 * server with next to nothing behind them (see minimal-xhr.ts): the floor that Node's HTTP
 * server itself sets for an xhr echo.
 */
import { createServer } from 'node:http';
import { ECHO_PATH, serve } from './serve';
import { xhrPoll, xhrSend, xhrStreaming } from './minimal-xhr';

const server = createServer((req, res) => {
  // ECHO_PATH/<server>/<session>/<transport>
  const parts = (req.url ?? '').split('/');
  if (req.method === 'POST' && '/' + parts[1] === ECHO_PATH && parts.length === 5) {
    const id = parts[3];
    switch (parts[4]) {
      case 'xhr_streaming':
        return xhrStreaming(id, res);
      case 'xhr':
        return xhrPoll(id, res);
      case 'xhr_send':
        return xhrSend(id, req, res);
    }
  }
  res.writeHead(404).end();
});
serve(server);
