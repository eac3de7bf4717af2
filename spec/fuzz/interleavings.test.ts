/**
 * Property-based tests (fast-check) on a healthy session: random interleavings of polls,
 * sends, streams, reconnects and aborts never lose, duplicate or reorder a message, and an
 * aborted receiving request closes its session exactly once.
 *
 * Seeds are random. A failure prints its seed, path and shrunk counterexample; replay it
 * with `FUZZ_SEED=<seed> FUZZ_PATH=<path>`. `FUZZ_SCALE=10` runs every property ten times
 * longer (bug hunts).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { heldSession } from '../helpers/internals';
import { delay, until } from '../helpers/server';
import { POST, fireAndHold, stream } from '../helpers/http';
import { FLOW_DISCONNECT_MS, assertSettled, baseline, closeBed, openBed, type Bed } from './bed';
import { messageArb } from './arbitraries';
import {
  RECEIVE_TRANSPORTS,
  STREAMING,
  assertSameList,
  connectionFor,
  framesOf,
  messagesOf,
  receiveOnce,
  receiveRequest,
  send,
  type ReceiveTransport,
  type SendVia,
} from './clients';
import { settings } from './settings';

let bed: Bed;

before(async () => {
  bed = await openBed();
});

after(() => closeBed(bed));

describe('random interleavings on a healthy session', () => {
  const batch = (gapMax: number) =>
    fc.record({
      gap: fc.integer({ min: 0, max: gapMax }),
      messages: fc.array(messageArb, { minLength: 1, maxLength: 4 }),
    });
  const planArb = fc.record({
    receivers: fc.array(fc.constantFrom(...RECEIVE_TRANSPORTS), { minLength: 1, maxLength: 8 }),
    receiverGaps: fc.array(fc.integer({ min: 0, max: 15 }), { minLength: 1, maxLength: 4 }),
    sends: fc.array(
      fc.record({
        gap: fc.integer({ min: 0, max: 20 }),
        messages: fc.array(messageArb, { minLength: 1, maxLength: 4 }),
        via: fc.constantFrom<SendVia>('xhr_send', 'jsonp_send form', 'jsonp_send text'),
      }),
      { maxLength: 6 },
    ),
    writes: fc.array(batch(20), { maxLength: 6 }),
  });

  it('never lose, duplicate or reorder a message, in either direction', async () => {
    const before = baseline(bed);
    await fc.assert(
      fc.asyncProperty(planArb, async (plan) => {
        const sessionId = randomUUID();
        const base = `${bed.url}/flow/000/${sessionId}`;
        const sent = plan.sends.flatMap((b, i) => b.messages.map((m, j) => `c${i}.${j}|${m}`));
        const written = plan.writes.flatMap((b, i) => b.messages.map((m, j) => `s${i}.${j}|${m}`));
        const expectedTotal = sent.length + written.length;
        const deadline = Date.now() + 10_000;
        const received: string[] = [];
        const closeFrames: string[] = [];
        // A failure in one actor stops the others (and leaves no rejection unhandled).
        let failed = false;
        const actor = (run: () => Promise<void>): Promise<void> =>
          run().catch((error: unknown) => {
            failed = true;
            throw error;
          });

        const receiver = async (): Promise<void> => {
          for (let i = 0; closeFrames.length === 0 && !failed; i++) {
            assert.ok(
              Date.now() < deadline,
              `still waiting after 10 s: got ${received.length} of ${expectedTotal}`,
            );
            const transport = plan.receivers[i % plan.receivers.length] as ReceiveTransport;
            const frames = await receiveOnce(base, transport);
            frames.forEach((frame, index) => {
              assert.equal(
                frame === 'o',
                i === 0 && index === 0,
                `open frame ${frame} at response ${i}, frame ${index}`,
              );
              assert.ok(
                frame === 'o' || frame === 'h' || frame.startsWith('a') || frame.startsWith('c'),
                `frame ${frame}`,
              );
              assert.equal(closeFrames.length, 0, `a frame after the close: ${frame}`);
              if (frame.startsWith('c')) closeFrames.push(frame);
              received.push(...(messagesOf(frame) ?? []));
            });
            await delay(plan.receiverGaps[i % plan.receiverGaps.length] ?? 0);
          }
        };
        const sender = async (): Promise<void> => {
          let n = 0;
          for (const b of plan.sends) {
            if (failed) return;
            await delay(b.gap);
            await send(base, sent.slice(n, n + b.messages.length), b.via);
            n += b.messages.length;
          }
        };
        const writer = async (): Promise<void> => {
          const rec = await connectionFor(bed, sessionId);
          let n = 0;
          for (const b of plan.writes) {
            if (failed) return;
            await delay(b.gap);
            for (const message of written.slice(n, n + b.messages.length)) {
              assert.equal(rec.conn.write(message), true, 'write() below the high water mark');
            }
            n += b.messages.length;
          }
        };
        // Once everything has arrived, the application closes; the receiver ends on the close.
        const closer = async (): Promise<void> => {
          const rec = await connectionFor(bed, sessionId);
          await until(() => failed || received.length >= expectedTotal, 10_000, 'every message');
          if (!failed) rec.conn.close();
        };
        await Promise.all([actor(receiver), actor(sender), actor(writer), actor(closer)]);
        const record = bed.sessions.get(sessionId);

        assert.ok(record !== undefined);
        const rec = record;
        assertSameList(rec.received, sent, 'the application got every client message once, in order');
        assertSameList(
          received.filter((m) => m.startsWith('c')),
          sent,
          'every echo once, in order',
        );
        assertSameList(
          received.filter((m) => m.startsWith('s')),
          written,
          'every server message once, in order',
        );
        assert.deepEqual(closeFrames, ['c[1000,"Normal closure"]']);
        assert.equal(rec.closes, 1);
        bed.sessions.delete(sessionId);
      }),
      settings(60, 20_000),
    );
    await assertSettled(bed, before, FLOW_DISCONNECT_MS + 2000);
  });

  const step = fc.oneof(
    fc.record({
      kind: fc.constant('write' as const),
      messages: fc.array(messageArb, { minLength: 1, maxLength: 3 }),
    }),
    fc.record({
      kind: fc.constant('send' as const),
      messages: fc.array(messageArb, { minLength: 1, maxLength: 3 }),
      via: fc.constantFrom<SendVia>('xhr_send', 'jsonp_send form', 'jsonp_send text'),
    }),
    fc.record({
      kind: fc.constant('poll' as const),
      transport: fc.constantFrom<ReceiveTransport>('xhr', 'jsonp'),
    }),
  );
  const afterStep = fc.oneof(
    fc.record({
      kind: fc.constant('write' as const),
      messages: fc.array(messageArb, { minLength: 1, maxLength: 2 }),
    }),
    fc.record({
      kind: fc.constant('send' as const),
      messages: fc.array(messageArb, { minLength: 1, maxLength: 2 }),
      via: fc.constantFrom<SendVia>('xhr_send', 'jsonp_send form', 'jsonp_send text'),
    }),
    fc.record({ kind: fc.constant('receive' as const), transport: fc.constantFrom(...RECEIVE_TRANSPORTS) }),
  );
  const abortPlanArb = fc.record({
    first: fc.constantFrom<ReceiveTransport>('xhr', 'jsonp'),
    before: fc.array(step, { maxLength: 6 }),
    aborted: fc.constantFrom(...RECEIVE_TRANSPORTS),
    liveWrites: fc.array(fc.array(messageArb, { minLength: 1, maxLength: 2 }), { maxLength: 3 }),
    after: fc.array(afterStep, { minLength: 1, maxLength: 4 }),
  });

  it('report an aborted receiving request as one close, and deliver nothing after it', async () => {
    const before = baseline(bed);
    await fc.assert(
      fc.asyncProperty(abortPlanArb, async (plan) => {
        const sessionId = randomUUID();
        const base = `${bed.url}/abort/000/${sessionId}`;
        const session = (): { receiver: unknown } | undefined => heldSession(bed.services.abort, sessionId);
        const attached = (): boolean => (session()?.receiver ?? null) !== null;
        let counter = 0;
        const pending: string[] = [];
        const received: string[] = [];
        const expectMessages = (frames: readonly string[]): void => {
          const got = frames.flatMap((f) => messagesOf(f) ?? []);
          received.push(...got);
        };

        // Open the session with a poll.
        const frames = await receiveOnce(base, plan.first);
        assert.deepEqual(frames, ['o']);
        const rec = await connectionFor(bed, sessionId);

        const write = (messages: readonly string[]): void => {
          for (const m of messages) {
            const named = `s${counter++}|${m}`;
            assert.equal(rec.conn.write(named), true);
            pending.push(named);
          }
        };
        for (const s of plan.before) {
          if (s.kind === 'write') write(s.messages);
          else if (s.kind === 'send') {
            const named = s.messages.map((m) => `c${counter++}|${m}`);
            await send(base, named, s.via);
            pending.push(...named); // echoed
          } else if (pending.length > 0) {
            const got = await receiveOnce(base, s.transport);
            assert.deepEqual(
              got.flatMap((f) => messagesOf(f) ?? []),
              pending,
              'a poll takes everything queued',
            );
            expectMessages(got);
            pending.length = 0;
          }
        }
        const sentBefore = rec.received.length;

        // The receiving request that the client cuts while it is attached.
        const transport = plan.aborted;
        const [method, url] = receiveRequest(base, transport);
        if (STREAMING.has(transport)) {
          const response = await stream(method, url);
          let body = '';
          const flowed = async (count: number): Promise<void> => {
            while (framesOf(transport, body, true).flatMap((f) => messagesOf(f) ?? []).length < count) {
              const piece = await response.read();
              assert.ok(piece !== null, 'the stream ended by itself');
              body += piece;
            }
          };
          let expected = pending.splice(0);
          await flowed(expected.length);
          for (const messages of plan.liveWrites) {
            write(messages);
            expected = expected.concat(pending.splice(0));
            await flowed(expected.length);
          }
          const got = framesOf(transport, body, true);
          assert.ok(
            got.every((f) => f === 'h' || f.startsWith('a')),
            `stream frames ${got.join(' ')}`,
          );
          assert.deepEqual(
            got.flatMap((f) => messagesOf(f) ?? []),
            expected,
          );
          expectMessages(got);
          response.close();
        } else {
          if (pending.length > 0) {
            const got = await receiveOnce(base, transport);
            assert.deepEqual(
              got.flatMap((f) => messagesOf(f) ?? []),
              pending.splice(0),
            );
            expectMessages(got);
          }
          const held = await fireAndHold(method, url);
          await until(attached, 2000, 'the poll to be attached');
          held.close();
        }
        await until(() => rec.closes > 0, 2000, 'the close after the abort');

        for (const s of plan.after) {
          if (s.kind === 'write') {
            for (const m of s.messages) assert.equal(rec.conn.write(m), false, 'write() after the close');
          } else if (s.kind === 'send') {
            const r = await POST(`${base}/xhr_send`, { body: JSON.stringify(s.messages) });
            assert.ok(r.status === 204 || r.status === 404, `send after the close: ${r.status}`);
          } else {
            const got = await receiveOnce(base, s.transport);
            // Within disconnectDelay the close again; past it, a new session.
            if (got[0] === 'o') break;
            assert.deepEqual(got, ['c[1002,"Connection interrupted"]'], `after the abort: ${got.join(' ')}`);
          }
        }
        assert.equal(rec.closes, 1, 'close emitted exactly once');
        assert.equal(rec.dataAfterClose, 0, 'no message delivered to the application after the close');
        assert.equal(rec.received.length, sentBefore);
        assert.equal(rec.conn.readyState, 3);
        bed.sessions.delete(sessionId);
      }),
      settings(80, 15_000),
    );
    await assertSettled(bed, before, FLOW_DISCONNECT_MS + 2000);
  });
});
