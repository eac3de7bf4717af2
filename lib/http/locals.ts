import type { ServerResponse } from 'node:http';

/**
 * `res.locals` as the middleware in front of a service left it. Express (4 and 5) gives
 * every response one before the first middleware runs; a response no app handled (the
 * sockjs-node compatible server's own) has none, and gets null.
 */
export function responseLocals(res: ServerResponse): object | null {
  const locals = (res as { locals?: unknown }).locals;
  return typeof locals === 'object' && locals !== null ? locals : null;
}
