import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SockjsService } from '../service';

/** One request for a session URL `BASE/<server>/<session>/<transport>`. */
export interface SessionRequest {
  readonly service: SockjsService;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly sessionId: string;
  /** Raw query string, without `?`. */
  readonly query: string;
  /** Base URL of the service (where it is mounted). */
  readonly prefix: string;
}

export type SessionHandler = (request: SessionRequest) => void;
