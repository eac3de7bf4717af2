import type { Session } from './session';

/** Sessions of one service, by the session id of their URLs. Never shared. */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  get(id: string): Session | undefined {
    return this.sessions.get(id);
  }

  add(session: Session & { readonly id: string }): void {
    this.sessions.set(session.id, session);
  }

  delete(session: Session): void {
    if (session.id !== null && this.sessions.get(session.id) === session) this.sessions.delete(session.id);
  }

  get size(): number {
    return this.sessions.size;
  }

  values(): IterableIterator<Session> {
    return this.sessions.values();
  }
}
