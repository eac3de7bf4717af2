/**
 * The module map of docs/architecture.md, checked on the source: no import cycles in lib/
 * (type-only imports count), and each folder imports only what the map allows.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const LIB = join(ROOT, 'lib');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** `lib/`-relative module names without `.ts`, e.g. `session/registry`. */
function moduleName(path: string): string {
  return relative(LIB, path).replace(/\.ts$/, '').split('\\').join('/');
}

const IMPORT = /^\s*(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/gm;

/** Every module of lib/ and the modules of lib/ it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sources(LIB)) {
    const text = readFileSync(file, 'utf8');
    const targets: string[] = [];
    for (const match of text.matchAll(IMPORT)) {
      let target = resolve(dirname(file), match[1]);
      if (!target.endsWith('.ts')) {
        try {
          target = statSync(target).isDirectory() ? join(target, 'index.ts') : target + '.ts';
        } catch {
          target += '.ts';
        }
      }
      targets.push(moduleName(target));
    }
    graph.set(moduleName(file), targets);
  }
  return graph;
}

function findCycle(graph: Map<string, string[]>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] | null => {
    if (state.get(node) === 'done') return null;
    if (state.get(node) === 'open') return [...path.slice(path.indexOf(node)), node];
    state.set(node, 'open');
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle !== null) return cycle;
    }
    path.pop();
    state.set(node, 'done');
    return null;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle !== null) return cycle;
  }
  return null;
}

/** Imports of modules matching `from` that reach modules matching `to`. */
function importsBetween(graph: Map<string, string[]>, from: RegExp, to: RegExp): string[] {
  const found: string[] = [];
  for (const [module, targets] of graph) {
    if (!from.test(module)) continue;
    for (const target of targets) if (to.test(target)) found.push(`${module} -> ${target}`);
  }
  return found;
}

describe('the module map', () => {
  const graph = importGraph();

  it('reads every module of lib/', () => {
    assert.ok(graph.size > 40, `${graph.size} modules`);
    assert.ok(graph.get('service')?.includes('session/registry'));
  });

  it('has no import cycle in lib/, type-only imports included', () => {
    assert.equal(findCycle(graph)?.join(' -> ') ?? null, null);
  });

  it('keeps the HTTP transports off the service, the routes, the mounts and Redis', () => {
    assert.deepEqual(
      importsBetween(
        graph,
        /^transports\//,
        /^(service|routes|static-routes|middleware|front-door|compat\/|redis\/|websocket\/)/,
      ),
      [],
    );
  });

  it('keeps sessions off transports but for the receiver contract, and off websockets and Redis', () => {
    assert.deepEqual(
      importsBetween(graph, /^session\//, /^(transports\/(?!receiver$)|websocket\/|redis\/|service|routes)/),
      [],
    );
  });

  it('keeps the websocket endpoint off the HTTP transports but for the receiver contract', () => {
    assert.deepEqual(
      importsBetween(graph, /^websocket\//, /^(transports\/(?!receiver$)|service|routes|middleware|redis\/)/),
      [],
    );
  });

  it("keeps the brokers on the application's side of sessions", () => {
    assert.deepEqual(
      importsBetween(
        graph,
        /^broker\//,
        /^(?!broker\/|session\/connection$|session\/ready-state$|protocol\/shared-message$|options$)/,
      ),
      [],
    );
  });

  it('lets nothing but sockjs-express/redis import sockjs-express/redis', () => {
    assert.deepEqual(importsBetween(graph, /^(?!redis\/)/, /^redis\//), []);
  });

  it('leaves the relay out of the transports that receive and send', () => {
    for (const module of ['transports/receiving.ts', 'transports/sending.ts']) {
      assert.doesNotMatch(readFileSync(join(LIB, module), 'utf8'), /relay|redis/i, module);
    }
  });

  it("touches a dependency's private fields only in lib/internals.ts", () => {
    const touching = sources(LIB)
      .filter((file) => moduleName(file) !== 'internals')
      .filter((file) => /\._[A-Za-z]\w*/.test(readFileSync(file, 'utf8')))
      .map(moduleName);
    assert.deepEqual(touching, []);
  });
});
