import { createServer, type Server } from 'node:http';
import express from 'express';
import { attachUpgrade, sockjsMiddleware, type SockjsOptions } from '../lib/index';

/**
 * The four services a SockJS protocol test suite expects (PROTOCOL.md section 7), on one
 * Express app, with the small response limit the suite assumes.
 */
export function createConformanceServer(overrides: Partial<SockjsOptions> = {}): Server {
  const base: SockjsOptions = {
    sockjsUrl: 'http://localhost/sockjs.js',
    responseLimit: 4096,
    // The protocol serves every origin, with credentials: the suite checks exactly that.
    origins: '*',
    ...overrides,
  };
  const echo = (options: SockjsOptions) => {
    const service = sockjsMiddleware(options);
    service.on('connection', (conn) => {
      conn.on('data', (message: string) => conn.write(message));
    });
    return service;
  };
  const close = sockjsMiddleware(base);
  close.on('connection', (conn) => conn.close(3000, 'Go away!'));

  const app = express();
  app.use('/echo', echo(base));
  app.use('/close', close);
  app.use('/disabled_websocket_echo', echo({ ...base, websocket: false }));
  app.use('/cookie_needed_echo', echo({ ...base, jsessionid: true }));
  const server = createServer(app);
  attachUpgrade(server);
  return server;
}
