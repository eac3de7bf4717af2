// Runs every compiled spec file with Node's test runner. Listing the files here keeps
// one command working on Node 18, 20 and 22, whose `--test` argument rules differ.
// Without arguments, a second pass runs the specs of the paths lib/internals.ts touches
// with SOCKJS_EXPRESS_PUBLIC_ONLY=1: every trick off, the public API alone.
// With SOCKJS_NO_SKIPS=1 (set by .ci/run, which installs everything the specs need), a
// skipped test fails the run: CI must run every test it claims to.
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const NO_SKIPS = process.env.SOCKJS_NO_SKIPS === '1';

/** The specs whose requests go through a trick of lib/internals.ts (or its fallback). */
const PUBLIC_ONLY_PASS = [
  'build/spec/internals.test.js',
  'build/spec/websocket.test.js',
  'build/spec/shutdown.test.js',
  'build/spec/session.test.js',
  'build/spec/fast-path.test.js',
  'build/spec/address-binding.test.js',
  'build/spec/middleware.test.js',
  'build/spec/compat.test.js',
  'build/spec/origins.test.js',
  'build/spec/protocol',
  'build/spec/e2e/node-client.test.js',
  'build/spec/e2e/locals.test.js',
  'build/spec/broker.test.js',
];

function find(dir) {
  const files = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files.push(...find(path));
    else if (name.endsWith('.test.js')) files.push(path);
  }
  return files;
}

function run(roots, env) {
  const files = roots.flatMap((root) => (statSync(root).isDirectory() ? find(root) : [root])).sort();
  const folder = mkdtempSync(join(tmpdir(), 'sockjs-tests-'));
  const tap = join(folder, 'results.tap');
  try {
    const reporters = ['--test-reporter=spec', '--test-reporter-destination=stdout'];
    reporters.push('--test-reporter=tap', `--test-reporter-destination=${tap}`);
    const result = spawnSync(process.execPath, ['--test', ...reporters, ...files], {
      stdio: 'inherit',
      env: { ...process.env, ...env },
    });
    const status = result.status ?? 1;
    const skipped = Number(/^# skipped (\d+)$/m.exec(readFileSync(tap, 'utf8'))?.[1] ?? 0);
    if (NO_SKIPS && skipped > 0) {
      console.error(`\n${skipped} test(s) skipped: SOCKJS_NO_SKIPS=1 requires every test to run.`);
      return status === 0 ? 1 : status;
    }
    return status;
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

const roots = process.argv.slice(2);
if (roots.length > 0) process.exit(run(roots, {}));
const all = run(['build/spec'], {});
console.log('\nSecond pass: the same paths with SOCKJS_EXPRESS_PUBLIC_ONLY=1 (no dependency internals)\n');
const publicOnly = run(PUBLIC_ONLY_PASS, { SOCKJS_EXPRESS_PUBLIC_ONLY: '1' });
process.exit(all !== 0 ? all : publicOnly);
