import { createConformanceServer } from './conformance-app';

/** `npm run conformance-server`: the protocol suite's services on PORT (default 8081). */
const port = Number(process.env.PORT ?? 8081);
const server = createConformanceServer();
server.listen(port, () => {
  process.stdout.write(
    `SockJS conformance server on http://localhost:${port} (/echo, /close, ` +
      `/disabled_websocket_echo, /cookie_needed_echo)\n`,
  );
});
