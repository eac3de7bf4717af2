import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LogFunction } from '../options';
import type { StallWatch } from '../http/body';
import type { SessionLookup } from '../session/lookup';
import type { SessionAddresses } from '../session/address-binding';

/** One request for a session URL `BASE/<server>/<session>/<transport>`. */
export interface SessionRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly sessionId: string;
  /** Raw query string, without `?`. */
  readonly query: string;
  /** Base URL of the service (where it is mounted). */
  readonly prefix: string;
}

/** What the HTTP transports may use of their service, and nothing more. */
export interface TransportContext {
  /** Finds and opens sessions. */
  readonly sessions: SessionLookup;
  /** The client address each session is bound to (`bindSessionToAddress`); null when off. */
  readonly addresses: SessionAddresses | null;
  /** Bytes of frames a streaming response carries before it ends. */
  readonly responseLimit: number;
  readonly disableCors: boolean;
  /** Largest body of a send request. */
  readonly maxBodySize: number;
  /** Times out stalled send bodies. */
  readonly bodyWatch: StallWatch;
  readonly log: LogFunction;
  /** Sets the JSESSIONID cookie when the service's option asks for it. */
  setCookie(req: IncomingMessage, res: ServerResponse): void;
}

export type SessionHandler = (request: SessionRequest, context: TransportContext) => void;
