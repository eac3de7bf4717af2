import type { ServerResponse } from 'node:http';
import { sendText } from '../http/respond';

/** The only callback names that cannot inject script into htmlfile and jsonp answers. */
const CALLBACK = /^[a-zA-Z0-9_.-]{1,32}$/;

/**
 * The `c` (or old clients' `callback`) query parameter, validated. Answers 500 with the
 * protocol's body and returns null when it is missing or unsafe.
 */
export function callbackParameter(query: string, res: ServerResponse): string | null {
  const params = new URLSearchParams(query);
  const callback = params.get('c') ?? params.get('callback');
  if (callback === null || callback === '') {
    sendText(res, 500, '"callback" parameter required');
    return null;
  }
  if (!CALLBACK.test(callback)) {
    sendText(res, 500, 'invalid "callback" parameter');
    return null;
  }
  return callback;
}
