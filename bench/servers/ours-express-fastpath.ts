/**
 * Target `ours-express-fastpath`: as `ours-express`, with the `fastPath` option: the
 * follow-up requests of existing sessions (sends, polls) are served before the Express app.
 */
import { serveExpressEcho } from './express-echo';

serveExpressEcho(true);
