import { sockjsMiddleware, type Connection, type SockjsOptions, type SockjsRouter } from '../lib/index';

/** Longest chat message the room relays, in characters; longer ones get an error back. */
export const MAX_CHAT_MESSAGE = 2000;

/** The chat command that asks the server to close the connection. */
export const BYE_COMMAND = '/bye';
/** Close code and reason the server answers BYE_COMMAND with. */
export const BYE_CODE = 4002;
export const BYE_REASON = 'Server says bye';

/** One person in the room, as every client sees them. */
export interface Member {
  readonly name: string;
  readonly transport: string;
}

/**
 * What the server sends to chat clients, as JSON. Clients send plain text: every message
 * is said to the room, except the command `/bye`.
 */
export type ChatEvent =
  | { readonly type: 'welcome'; readonly you: Member; readonly members: readonly Member[] }
  | { readonly type: 'join'; readonly member: Member }
  | { readonly type: 'leave'; readonly member: Member }
  | { readonly type: 'message'; readonly from: Member; readonly text: string; readonly at: number }
  | { readonly type: 'error'; readonly message: string };

/**
 * A chat room on a SockJS service: every message a client sends is broadcast to every
 * connected client (the sender included, so each page shows the room's one order).
 */
export function createChatRoom(options: SockjsOptions): SockjsRouter {
  const service = sockjsMiddleware(options);
  const members = new Map<Connection, Member>();
  let guests = 0;

  const send = (conn: Connection, event: ChatEvent): void => {
    conn.write(JSON.stringify(event));
  };
  const broadcast = (event: ChatEvent): void => {
    const frame = JSON.stringify(event);
    for (const conn of members.keys()) conn.write(frame);
  };

  service.on('connection', (conn) => {
    guests += 1;
    const member: Member = { name: `Guest ${guests}`, transport: conn.protocol };
    broadcast({ type: 'join', member });
    members.set(conn, member);
    send(conn, { type: 'welcome', you: member, members: [...members.values()] });

    conn.on('data', (text) => {
      if (text.trim() === BYE_COMMAND) {
        conn.close(BYE_CODE, BYE_REASON);
        return;
      }
      if (text.trim() === '') return;
      if (text.length > MAX_CHAT_MESSAGE) {
        send(conn, { type: 'error', message: `Messages are limited to ${MAX_CHAT_MESSAGE} characters.` });
        return;
      }
      broadcast({ type: 'message', from: member, text, at: Date.now() });
    });

    conn.on('close', () => {
      members.delete(conn);
      broadcast({ type: 'leave', member });
    });
  });
  return service;
}
