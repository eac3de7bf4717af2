/** Connection states, numbered like WebSocket.readyState and sockjs-node. */
export const ReadyState = Object.freeze({
  CONNECTING: 0,
  OPEN: 1,
  CLOSING: 2,
  CLOSED: 3,
} as const);

export type ReadyState = (typeof ReadyState)[keyof typeof ReadyState];
