/**
 * The `sockjs-express/redis` entry of the built package, as users load it: through the
 * `exports` field, in CommonJS and as an ES module, and never loaded by the main entry.
 * Needs `npm run build` (dist/) first; `npm test` does that.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { before, describe, it } from 'node:test';

const ROOT = resolve(__dirname, '..', '..', '..');

function runNode(args: readonly string[]): unknown {
  const output = execFileSync(process.execPath, [...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 10_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return JSON.parse(output) as unknown;
}

describe('the sockjs-express/redis entry point', () => {
  before(() => {
    assert.ok(
      existsSync(join(ROOT, 'dist', 'redis', 'index.js')),
      'dist/ is missing: run `npm run build` first',
    );
  });

  it('is in package.json exports, with redis an optional peer dependency', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      exports: Record<string, Record<string, Record<string, string>>>;
      peerDependencies: Record<string, string>;
      peerDependenciesMeta: Record<string, { optional?: boolean }>;
      dependencies: Record<string, string>;
    };
    const entry = pkg.exports['./redis'];
    assert.deepEqual(Object.keys(entry), ['import', 'require']);
    for (const conditions of Object.values(entry)) {
      assert.deepEqual(Object.keys(conditions), ['types', 'default']);
      for (const target of Object.values(conditions))
        assert.ok(existsSync(join(ROOT, target)), `${target} exists`);
    }
    assert.ok(pkg.peerDependencies.redis !== undefined);
    assert.equal(pkg.peerDependenciesMeta.redis.optional, true);
    assert.equal(pkg.dependencies.redis, undefined, 'not a dependency of every user');
  });

  it('loads with require() and import, sharing the main entry instance', () => {
    const required = runNode([
      '-e',
      `const redis = require('sockjs-express/redis');
       console.log(JSON.stringify(Object.keys(redis).filter((name) => name !== '__esModule')));`,
    ]);
    assert.deepEqual(required, ['createBroker']);
    const imported = runNode([
      '--input-type=module',
      '-e',
      `import { createBroker } from 'sockjs-express/redis';
       import def from 'sockjs-express/redis';
       import { sockjsMiddleware } from 'sockjs-express';
       // A stand-in client: enough for a broker to start, forward and close.
       const subscriber = {
         connect: async () => {}, subscribe: async () => {}, unsubscribe: async () => {},
         on: () => {}, close: async () => {},
       };
       const broker = await createBroker({ redis: { sendCommand: async () => 0, duplicate: () => subscriber } });
       broker.forward(sockjsMiddleware()); // throws unless both entries share one instance
       await broker.close();
       console.log(JSON.stringify([typeof createBroker, def.createBroker === createBroker]));`,
    ]);
    assert.deepEqual(imported, ['function', true]);
  });

  it('is not loaded, nor is the redis client, by the main entry', () => {
    const loaded = runNode([
      '-e',
      `require('sockjs-express');
       console.log(JSON.stringify(Object.keys(require.cache).filter((path) => /[\\\\/](redis|@redis)[\\\\/]/.test(path))));`,
    ]);
    assert.deepEqual(loaded, []);
  });
});
