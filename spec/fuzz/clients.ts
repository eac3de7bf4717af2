/**
 * SockJS clients for the interleaving properties: receiving requests on every HTTP
 * transport, with each transport's framing checked byte for byte; sends; and list checks
 * whose failures stay readable.
 */
import assert from 'node:assert/strict';
import { POST, stream } from '../helpers/http';
import { until } from '../helpers/server';
import type { Bed, SessionRecord } from './bed';

export type ReceiveTransport = 'xhr' | 'xhr_streaming' | 'eventsource' | 'htmlfile' | 'jsonp';
export type SendVia = 'xhr_send' | 'jsonp_send form' | 'jsonp_send text';
export const RECEIVE_TRANSPORTS: readonly ReceiveTransport[] = [
  'xhr',
  'xhr_streaming',
  'eventsource',
  'htmlfile',
  'jsonp',
];
export const STREAMING: ReadonlySet<ReceiveTransport> = new Set(['xhr_streaming', 'eventsource', 'htmlfile']);

export function receiveRequest(base: string, transport: ReceiveTransport): [string, string] {
  const method = transport === 'xhr' || transport === 'xhr_streaming' ? 'POST' : 'GET';
  const query = transport === 'htmlfile' || transport === 'jsonp' ? '?c=cb' : '';
  return [method, `${base}/${transport}${query}`];
}

const EVENT_ESCAPES: Record<string, string> = { '%25': '%', '%0D': '\r', '%0A': '\n', '%00': '\x00' };

/**
 * Splits a receiving response body into SockJS frames, checking the transport's framing
 * byte for byte on the way. `partial`: the response was cut, the last piece may be torn.
 */
export function framesOf(transport: ReceiveTransport, body: string, partial = false): string[] {
  switch (transport) {
    case 'xhr':
      if (partial && body === '') return [];
      assert.match(body, /^[^\n]+\n$/, 'one frame per xhr poll');
      return [body.slice(0, -1)];
    case 'xhr_streaming': {
      const prelude = 'h'.repeat(2048) + '\n';
      assert.ok(body.startsWith(prelude) || (partial && prelude.startsWith(body)), 'xhr_streaming prelude');
      const lines = body.slice(prelude.length).split('\n');
      lines.pop();
      return lines;
    }
    case 'eventsource': {
      assert.ok(body.startsWith('\r\n') || (partial && body === ''), 'eventsource prelude');
      const events = body.slice(2).split('\r\n\r\n');
      events.pop();
      return events.map((event) => {
        assert.ok(event.startsWith('data: '), `eventsource event ${JSON.stringify(event)}`);
        assert.doesNotMatch(event.slice(6), /[\r\n\x00]/);
        return event.slice(6).replace(/%25|%0D|%0A|%00/g, (escape) => EVENT_ESCAPES[escape] ?? escape);
      });
    }
    case 'htmlfile': {
      const end = body.indexOf('\r\n\r\n');
      if (partial && end === -1) return [];
      assert.ok(body.startsWith('<!doctype html>') && end > 1024, 'htmlfile prelude');
      const rest = body.slice(end + 4);
      const frames: string[] = [];
      const block = /<script>\np\(("(?:[^"\\]|\\.)*")\);\n<\/script>\r\n/gy;
      let consumed = 0;
      let match: RegExpExecArray | null;
      while ((match = block.exec(rest)) !== null) {
        assert.doesNotMatch(match[1] ?? '', /[<>&]/, 'htmlfile frame is HTML-safe');
        frames.push(JSON.parse(match[1] ?? '') as string);
        consumed = block.lastIndex;
      }
      if (!partial) assert.equal(consumed, rest.length, 'only script blocks after the prelude');
      return frames;
    }
    case 'jsonp': {
      if (partial && body === '') return [];
      const match = /^\/\*\*\/cb\(("(?:[^"\\]|\\.)*")\);\r\n$/.exec(body);
      assert.ok(match !== null, `jsonp body ${JSON.stringify(body)}`);
      return [JSON.parse(match[1] ?? '') as string];
    }
  }
}

/** Short JSON for failure messages: a 1 MiB message must not flood the report. */
function brief(value: unknown): string {
  const text = JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'string' && v.length > 40 ? `${v.slice(0, 40)}...(${v.length})` : v,
  );
  return text.length > 600 ? `${text.slice(0, 600)}...` : text;
}

/** Lists equal element by element; on failure, both shown shortened. */
export function assertSameList(actual: readonly string[], expected: readonly string[], what: string): void {
  const same = actual.length === expected.length && actual.every((item, i) => item === expected[i]);
  assert.ok(same, `${what}: got ${brief(actual)}, expected ${brief(expected)}`);
}

/** The messages of an `a[...]` frame; null for any other frame. */
export function messagesOf(frame: string): string[] | null {
  if (!frame.startsWith('a')) return null;
  const messages: unknown = JSON.parse(frame.slice(1));
  assert.ok(Array.isArray(messages) && messages.every((m) => typeof m === 'string'), `frame ${frame}`);
  return messages as string[];
}

/** One receiving request, read until the server ends it; its frames. */
export async function receiveOnce(base: string, transport: ReceiveTransport): Promise<string[]> {
  const [method, url] = receiveRequest(base, transport);
  const response = await stream(method, url);
  try {
    assert.equal(response.status, 200, `${transport} status`);
    return framesOf(transport, await response.readAll());
  } finally {
    response.close();
  }
}

export async function send(base: string, messages: readonly string[], via: SendVia): Promise<void> {
  const json = JSON.stringify(messages);
  if (via === 'xhr_send') {
    const r = await POST(`${base}/xhr_send`, { body: json, headers: { 'Content-Type': 'text/plain' } });
    assert.equal(r.status, 204, `xhr_send answered ${r.status} ${r.body}`);
    return;
  }
  const form = via === 'jsonp_send form';
  const r = await POST(`${base}/jsonp_send`, {
    body: form ? 'd=' + encodeURIComponent(json) : json,
    headers: { 'Content-Type': form ? 'application/x-www-form-urlencoded' : 'text/plain' },
  });
  assert.deepEqual([r.status, r.body], [200, 'ok'], `${via}`);
}

export async function connectionFor(bed: Bed, sessionId: string): Promise<SessionRecord> {
  await until(() => bed.sessions.has(sessionId), 2000, `the connection of session ${sessionId}`);
  return bed.sessions.get(sessionId) as SessionRecord;
}
