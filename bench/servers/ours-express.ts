/** Target `ours-express`: sockjs-express mounted in an Express application. */
import { serveExpressEcho } from './express-echo';

serveExpressEcho(false);
