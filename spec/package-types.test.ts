/**
 * The published types as a TypeScript user meets them: the package is packed, installed
 * from its tarball into a fresh project beside express and the @types packages, and strict
 * code is type-checked with `skipLibCheck: false` (so every shipped .d.ts is checked too)
 * under `nodenext` as an ES module and as CommonJS, and under `moduleResolution: bundler`.
 * Then @arethetypeswrong/cli checks how every entry point resolves, for every resolution
 * mode. Needs `npm run build` (dist/) first; installs from the npm cache when it can.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CONSUMER_CODE } from './helpers/consumer-code';

/** The repository root, from build/spec/package-types.test.js. */
const ROOT = resolve(__dirname, '..', '..');

/** npm pack and npm install from the cache take seconds; a cold cache, longer. */
const INSTALL_TIMEOUT_MS = 180_000;
const CHECK_TIMEOUT_MS = 120_000;

/** The versions this repository is built against, so that the npm cache has them. */
function installedVersion(name: string): string {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
    version: string;
  };
  return `${name}@${manifest.version}`;
}

function run(command: string, args: readonly string[], cwd: string, timeout: number): string {
  return execFileSync(command, [...args], {
    cwd,
    encoding: 'utf8',
    timeout,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs npm (its own script, with this Node), whatever the platform calls its shim. */
function npm(args: readonly string[], cwd: string): string {
  const npmCli = process.env.npm_execpath;
  if (npmCli !== undefined && npmCli.endsWith('.js')) {
    return run(process.execPath, [npmCli, ...args], cwd, INSTALL_TIMEOUT_MS);
  }
  return run('npm', args, cwd, INSTALL_TIMEOUT_MS);
}

/** `tsc -p folder`; its output (the errors) on failure, '' on success. */
function typeCheck(folder: string): string {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    run(process.execPath, [tsc, '-p', folder], folder, CHECK_TIMEOUT_MS);
    return '';
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    return `${stdout ?? ''}${stderr ?? ''}` || String(error);
  }
}

/** Strict settings every consumer project shares; `skipLibCheck: false` checks our .d.ts. */
const STRICT = {
  strict: true,
  skipLibCheck: false,
  noEmit: true,
  target: 'ES2022',
  lib: ['ES2022'],
  types: ['node'],
  noUnusedLocals: true,
  forceConsistentCasingInFileNames: true,
};

/** One consumer project: its package.json type, its compiler settings, its source. */
interface Project {
  readonly folder: string;
  readonly type: 'module' | 'commonjs';
  readonly compilerOptions: Readonly<Record<string, unknown>>;
}

const PROJECTS: readonly Project[] = [
  {
    folder: 'nodenext-esm',
    type: 'module',
    compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext' },
  },
  {
    folder: 'nodenext-cjs',
    type: 'commonjs',
    compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', esModuleInterop: true },
  },
  { folder: 'bundler', type: 'module', compilerOptions: { module: 'preserve', moduleResolution: 'bundler' } },
  {
    // What `tsc --init` long wrote for CommonJS: node10 resolution, no `exports` field.
    folder: 'node10-cjs',
    type: 'commonjs',
    compilerOptions: {
      module: 'commonjs',
      moduleResolution: 'node10',
      esModuleInterop: true,
      ignoreDeprecations: '6.0',
    },
  },
];

describe('the packed package, type-checked as a user installs it', () => {
  let work: string;
  let tarball: string;

  before(() => {
    assert.ok(existsSync(join(ROOT, 'dist', 'index.d.ts')), 'dist/ is missing: run `npm run build` first');
    work = mkdtempSync(join(tmpdir(), 'sockjs-types-'));
    // dist/ is built already; --ignore-scripts keeps `prepare` from building it again.
    const packed = JSON.parse(
      npm(['pack', '--ignore-scripts', '--json', '--pack-destination', work], ROOT),
    ) as {
      filename: string;
    }[];
    tarball = join(work, packed[0].filename);
    writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
    npm(
      [
        'install',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        '--ignore-scripts',
        '--no-package-lock',
        tarball,
        installedVersion('express'),
        installedVersion('@types/express'),
        installedVersion('@types/node'),
        installedVersion('redis'),
        installedVersion('ioredis'),
      ],
      work,
    );
    for (const project of PROJECTS) {
      const folder = join(work, project.folder);
      mkdirSync(folder);
      writeFileSync(join(folder, 'package.json'), JSON.stringify({ type: project.type }));
      const compilerOptions = { ...STRICT, ...project.compilerOptions };
      const files = ['app.ts', 'untyped.d.ts'];
      writeFileSync(join(folder, 'tsconfig.json'), JSON.stringify({ compilerOptions, files }));
      writeFileSync(join(folder, 'app.ts'), CONSUMER_CODE);
      // ioredis's own declarations import `redis-errors`, which ships no types: its users
      // with skipLibCheck off install @types/redis-errors. This stands in for it, so the
      // check stays about this package's types.
      writeFileSync(join(folder, 'untyped.d.ts'), "declare module 'redis-errors';\n");
    }
  });

  after(() => {
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  for (const project of PROJECTS) {
    it(`compiles strict code with skipLibCheck off (${project.folder})`, () => {
      assert.equal(typeCheck(join(work, project.folder)), '');
    });
  }

  it('resolves every entry point to types of the right module format (arethetypeswrong)', () => {
    const attw = join(ROOT, 'node_modules', '@arethetypeswrong', 'cli', 'dist', 'index.js');
    try {
      run(process.execPath, [attw, tarball, '--format', 'ascii', '--no-color'], work, CHECK_TIMEOUT_MS);
    } catch (error) {
      const { stdout, stderr } = error as { stdout?: string; stderr?: string };
      assert.fail(`arethetypeswrong found problems:\n${stdout ?? ''}${stderr ?? ''}`);
    }
  });
});
