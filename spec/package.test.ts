/**
 * The built package as a user loads it: `require('sockjs-express')` and
 * `import ... from 'sockjs-express'` in fresh Node processes, resolved through the
 * `exports` field of package.json (package self-reference from the repository root).
 * Needs `npm run build` (dist/) first; `npm test` does that.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { join, resolve } from 'node:path';
import { before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';

/** The repository root, from build/spec/package.test.js. */
const ROOT = resolve(__dirname, '..', '..');

interface PackageJson {
  name: string;
  main: string;
  types: string;
  exports: Record<string, string | Record<string, Record<string, string>>>;
}

/** Every file an `exports` entry names, through its nested conditions. */
function exportTargets(entry: string | Record<string, Record<string, string>>): string[] {
  if (typeof entry === 'string') return [entry];
  return Object.values(entry).flatMap((conditions) => Object.values(conditions));
}

const CHILD_TIMEOUT_MS = 10_000;

/** Runs `node <args>` in the repository root and parses the JSON it prints. */
function runNode(args: readonly string[]): unknown {
  const output = execFileSync(process.execPath, [...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: CHILD_TIMEOUT_MS,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return JSON.parse(output) as unknown;
}

function runCommonJs(code: string): unknown {
  return runNode(['-e', code]);
}

function runModule(code: string): unknown {
  return runNode(['--input-type=module', '-e', code]);
}

/** Script text describing a freshly created router as JSON-able facts. */
const DESCRIBE_ROUTER = `
  const router = sockjs({ sockjsUrl: '/sockjs.js' });
  const onReturnsRouter = router.on('connection', () => {}) === router;
  const routerFacts = {
    routerIsFunction: typeof router === 'function',
    hasOn: typeof router.on === 'function',
    onReturnsRouter,
    connectionListeners: router.listenerCount('connection'),
    hasUse: typeof router.use === 'function',
  };
`;

const EXPECTED_ROUTER_FACTS = {
  routerIsFunction: true,
  hasOn: true,
  onReturnsRouter: true,
  connectionListeners: 1,
  hasUse: true,
};

describe('the built package entry points', () => {
  let pkg: PackageJson;

  before(() => {
    pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as PackageJson;
    assert.ok(existsSync(join(ROOT, 'dist', 'index.js')), 'dist/ is missing: run `npm run build` first');
  });

  it('points main, types and every exports condition at files that exist in dist/', () => {
    assert.equal(pkg.name, 'sockjs-express');
    const targets = [
      pkg.main,
      pkg.types,
      ...exportTargets(pkg.exports['.']),
      ...exportTargets(pkg.exports['./redis']),
    ];
    for (const target of targets) {
      assert.ok(target.replace(/^\.\//, '').startsWith('dist/'), `${target} is under dist/`);
      assert.ok(existsSync(join(ROOT, target)), `${target} exists`);
    }
  });

  it('gives require() users sockjsMiddleware, its alias sockjs and Connection', () => {
    const result = runCommonJs(`
      const api = require('sockjs-express');
      const { sockjs } = api;
      ${DESCRIBE_ROUTER}
      console.log(JSON.stringify({
        sockjsMiddleware: typeof api.sockjsMiddleware,
        sockjs: typeof api.sockjs,
        aliasIsSameFunction: api.sockjs === api.sockjsMiddleware,
        connection: typeof api.Connection,
        connectionName: api.Connection.name,
        resolvedTo: require.resolve('sockjs-express'),
        ...routerFacts,
      }));
    `);
    assert.deepEqual(result, {
      sockjsMiddleware: 'function',
      sockjs: 'function',
      aliasIsSameFunction: true,
      connection: 'function',
      connectionName: 'Connection',
      resolvedTo: join(ROOT, 'dist', 'index.js'),
      ...EXPECTED_ROUTER_FACTS,
    });
  });

  it('gives import users the same names, by name and as the default export', () => {
    const result = runModule(`
      import def, { sockjs, sockjsMiddleware, Connection } from 'sockjs-express';
      ${DESCRIBE_ROUTER}
      const fromDefault = def.sockjsMiddleware({});
      console.log(JSON.stringify({
        sockjsMiddleware: typeof sockjsMiddleware,
        sockjs: typeof sockjs,
        aliasIsSameFunction: sockjs === sockjsMiddleware,
        connection: typeof Connection,
        defaultHasSameFunctions: def.sockjs === sockjs && def.sockjsMiddleware === sockjsMiddleware,
        defaultHasConnection: def.Connection === Connection,
        defaultRouterHasOn: typeof fromDefault === 'function' && typeof fromDefault.on === 'function',
        // import.meta.resolve is unflagged from Node 18.19 and 20.6.
        resolvedTo: typeof import.meta.resolve === 'function' ? import.meta.resolve('sockjs-express') : null,
        ...routerFacts,
      }));
    `);
    const esmEntry = pathToFileURL(join(ROOT, 'dist', 'index.mjs')).href;
    const { resolvedTo } = result as { resolvedTo: string | null };
    assert.deepEqual(result, {
      sockjsMiddleware: 'function',
      sockjs: 'function',
      aliasIsSameFunction: true,
      connection: 'function',
      defaultHasSameFunctions: true,
      defaultHasConnection: true,
      defaultRouterHasOn: true,
      resolvedTo: resolvedTo === null ? null : esmEntry,
      ...EXPECTED_ROUTER_FACTS,
    });
  });

  it('shares one copy of the code between import and require in the same process', () => {
    const result = runModule(`
      import { createRequire } from 'node:module';
      import { Connection, sockjs } from 'sockjs-express';
      const required = createRequire(import.meta.url)('sockjs-express');
      console.log(JSON.stringify({
        sameConnection: required.Connection === Connection,
        sameFactory: required.sockjs === sockjs,
      }));
    `);
    assert.deepEqual(result, { sameConnection: true, sameFactory: true });
  });

  it('serves the SockJS greeting from a router mounted in an Express app', () => {
    const result = runCommonJs(`
      const express = require('express');
      const { sockjs } = require('sockjs-express');
      const app = express();
      app.use('/echo', sockjs());
      const server = app.listen(0, '127.0.0.1', async () => {
        try {
          const base = 'http://127.0.0.1:' + server.address().port + '/echo';
          const greeting = await fetch(base);
          const info = await fetch(base + '/info');
          console.log(JSON.stringify({
            greetingStatus: greeting.status,
            greeting: await greeting.text(),
            infoStatus: info.status,
            infoWebsocket: (await info.json()).websocket,
          }));
        } finally {
          server.closeAllConnections();
          server.close();
        }
      });
    `);
    assert.deepEqual(result, {
      greetingStatus: 200,
      greeting: 'Welcome to SockJS!\n',
      infoStatus: 200,
      infoWebsocket: true,
    });
  });
});

/** The files `npm pack` puts in the tarball, by path inside the package. */
function packedFiles(): string[] {
  const npmCli = process.env.npm_execpath;
  const [command, args] =
    npmCli !== undefined && npmCli.endsWith('.js') ? [process.execPath, [npmCli]] : ['npm', [] as string[]];
  const output = execFileSync(command, [...args, 'pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const [pack] = JSON.parse(output) as { files: { path: string }[] }[];
  return pack.files.map((file) => file.path).sort();
}

/** Files outside dist/ that a user of the package needs. */
const TOP_LEVEL_FILES = new Set(['LICENSE', 'README.md', 'package.json', 'redis/package.json']);

describe('the tarball', () => {
  let files: string[];
  let shipped: Set<string>;

  before(() => {
    assert.ok(existsSync(join(ROOT, 'dist', 'index.js')), 'dist/ is missing: run `npm run build` first');
    files = packedFiles();
    shipped = new Set(files);
  });

  it('carries the license, the README and the package manifest', () => {
    for (const name of ['LICENSE', 'README.md', 'package.json'])
      assert.ok(shipped.has(name), `${name} ships`);
    assert.match(readFileSync(join(ROOT, 'LICENSE'), 'utf8'), /^MIT License/);
  });

  it('carries dist/ and nothing users do not need (no sources, specs, build output, docs or benches)', () => {
    const extra = files.filter((path) => !path.startsWith('dist/') && !TOP_LEVEL_FILES.has(path));
    assert.deepEqual(extra, []);
    assert.deepEqual(
      files.filter((path) => /\.test\.|(^|\/)(spec|bench|build|lib)\//.test(path)),
      [],
    );
  });

  it('carries every file main, types and exports name', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as PackageJson;
    const named = [pkg.main, pkg.types, ...Object.values(pkg.exports).flatMap(exportTargets)];
    const missing = named.map((target) => posix.normalize(target)).filter((path) => !shipped.has(path));
    assert.deepEqual(missing, []);
  });

  it('has no source map without its sources, and no reference to a map it lacks', () => {
    const problems: string[] = [];
    for (const path of files) {
      const text = readFileSync(join(ROOT, path), 'utf8');
      if (path.endsWith('.map')) {
        const map = JSON.parse(text) as { sources: string[]; sourcesContent?: (string | null)[] };
        const embedded = (map.sourcesContent ?? []).filter((content) => typeof content === 'string');
        if (embedded.length !== map.sources.length) problems.push(`${path}: sources not embedded`);
        continue;
      }
      const reference = /^\/\/# sourceMappingURL=(.+)$/m.exec(text);
      if (reference === null || reference[1].startsWith('data:')) continue;
      const map = posix.join(posix.dirname(path), reference[1].trim());
      if (!shipped.has(map)) problems.push(`${path}: refers to ${map}, which does not ship`);
    }
    assert.deepEqual(problems, []);
  });

  it('has a README whose relative links and images point at files that ship', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const targets = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1]);
    assert.ok(targets.length > 5, 'the README has links');
    const broken = targets
      .filter((target) => !/^[a-z]+:/.test(target) && !target.startsWith('#'))
      .filter((target) => !shipped.has(posix.normalize(target.split('#')[0])));
    assert.deepEqual(broken, [], 'relative links to files the registry page cannot show');
  });
});
