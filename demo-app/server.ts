/**
 * `npm start`: the sockjs-express demo. PORT (default 8080) and HOST choose where it
 * listens; `--cross-origin` (or CROSS_ORIGIN=1) serves the SockJS services from PORT + 1.
 */
import { DEFAULT_PORT, startDemo } from './demo';

const port =
  process.env.PORT === undefined || process.env.PORT === '' ? DEFAULT_PORT : Number(process.env.PORT);
const crossOrigin =
  process.argv.includes('--cross-origin') || ['1', 'true', 'yes'].includes(process.env.CROSS_ORIGIN ?? '');

if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`demo: PORT must be a port number, got ${JSON.stringify(process.env.PORT)}`);
  process.exit(1);
}

startDemo({ port, crossOrigin, host: process.env.HOST || undefined }).then(
  (demo) => {
    console.log(`sockjs-express demo on ${demo.url}`);
    if (demo.crossOrigin) console.log(`SockJS services on ${demo.servicesUrl} (cross-origin mode)`);
    const shutdown = (): void => {
      demo.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  },
  (error: unknown) => {
    console.error(`demo: cannot start: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
