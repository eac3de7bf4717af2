/**
 * The heartbeat-instructions bench's arithmetic: reading a callgrind dump's totals (real
 * dumps of callgrind 3.19 under spec/fixtures) and the slopes between steps.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { dumpsOf, parseCallgrindTotals, selfCostByFunction, splitOf } from '../bench/callgrind';
import {
  perHeartbeatOf,
  perPeriodOf,
  repSlopes,
  roundsOf,
  slopesOf,
  type InstructionRecord,
} from '../bench/heartbeat-instructions-figures';

/** spec/fixtures, from build/spec/heartbeat-instructions.test.js. */
const FIXTURES = resolve(__dirname, '..', '..', 'spec', 'fixtures');
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');

describe('parseCallgrindTotals', () => {
  it("reads a window's dump (callgrind_control --dump): totals and summary agree", () => {
    assert.deepEqual(parseCallgrindTotals(fixture('callgrind-window.out')), { Ir: 7_468_505 });
  });

  it('takes the totals of the dump at exit, whose summary wrapped below zero after --zero', () => {
    const text = fixture('callgrind-at-exit.out');
    assert.match(text, /^summary: 18446744073356422600$/m);
    assert.deepEqual(parseCallgrindTotals(text), { Ir: 81_516 });
  });

  it('names each count by the events line, a missing trailing count being zero', () => {
    assert.deepEqual(parseCallgrindTotals('events: Ir Dr Dw\ntotals: 100 40\n'), { Ir: 100, Dr: 40, Dw: 0 });
  });

  it('refuses text that is not a dump', () => {
    assert.throws(() => parseCallgrindTotals('events: Ir\n'), /not a callgrind dump/);
    assert.throws(() => parseCallgrindTotals('totals: 5\n'), /not a callgrind dump/);
    assert.throws(() => parseCallgrindTotals('events: Ir\ntotals: 5 6\n'), /2 totals for 1 events/);
  });
});

describe('selfCostByFunction', () => {
  for (const name of ['callgrind-window.out', 'callgrind-at-exit.out']) {
    it(`gives every instruction of ${name} to one function: their sum is the totals`, () => {
      const text = fixture(name);
      const costs = selfCostByFunction(text);
      let sum = 0;
      for (const count of costs.values()) sum += count;
      assert.equal(sum, parseCallgrindTotals(text)['Ir']);
    });
  }

  it("charges a call's cost to the callee, not to the caller", () => {
    const text = fixture('callgrind-window.out');
    const costs = selfCostByFunction(text);
    // fn=(512) ran 93 of its own and called the prologue (5,064, the callee's).
    assert.equal(costs.get('0x000000000d047940'), 93);
    assert.ok((costs.get("Builtins_BaselineOutOfLinePrologue'2") ?? 0) > 0);
  });

  it("splits V8's compilers and collector from the rest by name", () => {
    const costs = new Map([
      ['v8::internal::compiler::GraphReducer::ReduceTop()', 10],
      ['v8::internal::maglev::MaglevGraphBuilder::Build()', 1],
      ['v8::internal::ScavengerCollector::CollectGarbage()', 20],
      [
        'heap::base::SlotCallbackResult v8::internal::Scavenger::ScavengeObject<v8::internal::FullHeapObjectSlot>(v8::internal::FullHeapObjectSlot, v8::internal::HeapObject)',
        5,
      ],
      ['v8::internal::MarkCompactCollector::CollectGarbage()', 2],
      ['Builtins_KeyedLoadIC_Megamorphic', 100],
      ['_int_malloc', 7],
    ]);
    assert.deepEqual(splitOf(costs), { compiler: 11, collector: 27 });
  });
});

describe('dumpsOf', () => {
  it("lists one process's numbered dumps in the order written, not the dump at exit", () => {
    const dir = mkdtempSync(join(tmpdir(), 'dumps-'));
    try {
      for (const name of ['callgrind.out.7.10', 'callgrind.out.7.2', 'callgrind.out.7', 'callgrind.out.8.1'])
        writeFileSync(join(dir, name), '');
      assert.deepEqual(
        dumpsOf(dir, 7).map((path) => path.slice(dir.length + 1)),
        ['callgrind.out.7.2', 'callgrind.out.7.10'],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const record = (step: number, instructions: number, heartbeats: number, rep = 0): InstructionRecord => ({
  transport: 'websocket',
  target: 'ours-http',
  rep,
  step,
  sessions: step,
  instructions,
  heartbeats,
});

describe('instructions per heartbeat period and the slopes', () => {
  it('divides by the rounds received, not by the periods configured', () => {
    // 1,000 sessions, 3.5 heartbeats each: 7 M instructions are 2 M per round.
    const r = record(1000, 7_000_000, 3500);
    assert.equal(roundsOf(r), 3.5);
    assert.equal(perPeriodOf(r), 2_000_000);
    assert.equal(perHeartbeatOf(r), 2000);
    assert.equal(perPeriodOf({ ...r, heartbeats: 0 }), undefined);
  });

  it("leaves V8's compiling out, unless asked for the whole count", () => {
    const r = { ...record(1000, 7_000_000, 3500), compilerInstructions: 700_000 };
    assert.equal(perPeriodOf(r), 1_800_000);
    assert.equal(perPeriodOf(r, true), 2_000_000);
    assert.equal(perHeartbeatOf(r), 1800);
  });

  it('gives the slope between consecutive steps and the last ÷ the first', () => {
    const { slopes, ratio } = slopesOf([
      { sessions: 1000, perPeriod: 3_000_000 },
      { sessions: 2000, perPeriod: 5_000_000 },
      { sessions: 4000, perPeriod: 9_400_000 },
    ]);
    assert.deepEqual(slopes, [2000, 2200]);
    assert.equal(ratio, 1.1);
  });

  it("takes one repetition's steps, and none when a step failed", () => {
    const records = [
      record(2000, 20_000_000, 8000),
      record(1000, 12_000_000, 4000),
      record(4000, 36_000_000, 16_000),
      record(1000, 1, 1, 1),
    ];
    // 3 M, 5 M and 9 M per period: 2,000 per session, then 2,000.
    assert.deepEqual(repSlopes(records, [1000, 2000, 4000], 'websocket', 'ours-http', 0), {
      slopes: [2000, 2000],
      ratio: 1,
    });
    assert.equal(repSlopes(records, [1000, 2000, 4000], 'websocket', 'ours-http', 1), null);
    records[0].error = 'closed';
    assert.equal(repSlopes(records, [1000, 2000, 4000], 'websocket', 'ours-http', 0), null);
  });
});
