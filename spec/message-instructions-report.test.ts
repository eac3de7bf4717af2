/**
 * The report of `npm run bench:message-instructions`: counts per message from callgrind's
 * totals and the messages of each window, ratios paired by repetition, the simulated misses
 * summed over their events, and a failed window named rather than counted.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  markdownOf,
  type MessageInstructionRecord,
  type MessageInstructionRun,
} from '../bench/message-instructions-report';
import type { CallgrindTotals } from '../bench/callgrind';

function run(cacheSim: boolean): MessageInstructionRun {
  const window = (
    target: MessageInstructionRecord['target'],
    rep: number,
    ir: number,
    messages: number,
  ): MessageInstructionRecord => {
    const events: CallgrindTotals = cacheSim
      ? { Ir: ir, D1mr: messages * 10, D1mw: messages * 2, Bcm: messages * 7, Bim: messages }
      : { Ir: ir };
    return { scenario: 'xhr-polling', target, rep, messages, events };
  };
  return {
    info: {
      date: '2026-12-06T22:46:00.000Z',
      command: 'npm run bench:message-instructions',
      node: 'v20.20.2',
      pinning: 'no core pinning (--no-pin)',
      warmUpMessages: 20_000,
      windowMs: 20_000,
      reps: 2,
      cacheSim,
    },
    records: [
      window('ours-http', 0, 140_000 * 2000, 2000),
      window('ours-http', 1, 150_000 * 1000, 1000),
      window('sockjs-node', 0, 280_000 * 500, 500),
      window('sockjs-node', 1, 250_000 * 800, 800),
      window('bare-http', 0, 126_000 * 3000, 3000),
      {
        scenario: 'xhr-polling',
        target: 'bare-http',
        rep: 1,
        error: 'no message echoed in 5000 ms of warm-up',
      },
      window('ours-express', 0, 940_000 * 400, 400),
      window('ours-express', 1, 950_000 * 400, 400),
      window('express-baseline', 0, 920_000 * 400, 400),
      window('express-baseline', 1, 930_000 * 400, 400),
    ],
  };
}

/** The cells of the table row of `target` (backquoted in the first cell). */
function row(markdown: string, target: string, nth = 0): string[] {
  const rows = markdown.split('\n').filter((line) => line.startsWith(`| \`${target}\``));
  assert.ok(rows.length > nth, `no row ${nth} for ${target}`);
  return rows[nth]
    .split('|')
    .slice(1, -1)
    .map((cell) => cell.trim());
}

describe('bench:message-instructions report', () => {
  it('divides instructions by messages and pairs the ratios by repetition', () => {
    const markdown = markdownOf(run(false));
    // 140,000 and 150,000 per message; against sockjs-node 0.50x and 0.60x.
    assert.deepEqual(row(markdown, 'ours-http'), [
      '`ours-http`',
      '145,000 (140,000–150,000)',
      '0.55x (0.50x–0.60x)',
      '1.11x',
      '',
      '1,500 (1,000–2,000)',
    ]);
    // The floor's failed repetition pairs with nothing: one ratio, from the first.
    assert.equal(row(markdown, 'sockjs-node')[3], '2.22x');
    assert.deepEqual(row(markdown, 'ours-express').slice(1, 5), [
      '945,000 (940,000–950,000)',
      '3.58x (3.36x–3.80x)',
      '7.46x',
      '1.02x (1.02x–1.02x)',
    ]);
    assert.equal(row(markdown, 'express-baseline')[4], '');
    assert.match(markdown, /- rep 2 `bare-http` failed: no message echoed in 5000 ms of warm-up/);
    assert.doesNotMatch(markdown, /simulated misses/);
  });

  it('sums the simulated misses of each kind per message', () => {
    const markdown = markdownOf(run(true));
    assert.match(markdown, /### xhr-polling: simulated misses per message/);
    // The second table's row: L1 instruction misses were not simulated in these windows.
    assert.deepEqual(row(markdown, 'ours-http', 1), ['`ours-http`', '–', '12 (12–12)', '–', '8 (8–8)']);
  });

  it("leaves out a window with load errors, and takes V8's collector and compilers out", () => {
    const base = run(false);
    const markdown = markdownOf({
      ...base,
      records: [
        {
          scenario: 'xhr-polling',
          target: 'ours-http',
          rep: 0,
          messages: 1000,
          errors: 0,
          events: { Ir: 150e6 },
          collectorInstructions: 8e6,
          compilerInstructions: 2e6,
        },
        {
          scenario: 'xhr-polling',
          target: 'ours-http',
          rep: 1,
          messages: 150,
          errors: 9,
          events: { Ir: 110e6 },
          collectorInstructions: 1e6,
          compilerInstructions: 0,
        },
        {
          scenario: 'xhr-polling',
          target: 'sockjs-node',
          rep: 0,
          messages: 500,
          errors: 0,
          events: { Ir: 140e6 },
          collectorInstructions: 15e6,
          compilerInstructions: 5e6,
        },
        {
          scenario: 'xhr-polling',
          target: 'sockjs-node',
          rep: 1,
          messages: 500,
          errors: 0,
          events: { Ir: 130e6 },
          collectorInstructions: 5e6,
          compilerInstructions: 5e6,
        },
      ],
    });
    // All instructions: 150,000 a message, the window with errors not among them.
    assert.deepEqual(row(markdown, 'ours-http').slice(1, 3), ['150,000', '0.54x']);
    assert.deepEqual(row(markdown, 'sockjs-node').slice(1, 2), ['270,000 (260,000–280,000)']);
    assert.match(markdown, /### xhr-polling: outside V8's collector and compilers/);
    // (150 - 8 - 2) M / 1,000 and (140 - 15 - 5) M / 500: 140,000 against 240,000.
    assert.deepEqual(row(markdown, 'ours-http', 1).slice(1, 3), ['140,000', '0.58x']);
    assert.deepEqual(row(markdown, 'sockjs-node', 1).slice(1, 2), ['240,000 (240,000–240,000)']);
    assert.match(markdown, /- rep 2 `ours-http` left out: 9 load errors in the window/);
  });
});
