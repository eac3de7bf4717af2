/**
 * `npm run bench -- --baseline <ref>`: the library as it was at another commit, for the
 * `@base` twins of the library targets. The commit's tree is exported into
 * bench/.baseline/<sha>/ (git archive), given this tree's node_modules and compiled with
 * `tsc -p tsconfig.spec.json` as `npm run bench` compiles this tree; later runs against
 * the same commit reuse that build.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, realpathSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';
import type { BaselineInfo } from './report';

/** The checkout this build came from: build/bench/ is two levels down. */
const ROOT = resolve(__dirname, '../..');
const CACHE = join(ROOT, 'bench', '.baseline');

export interface Baseline extends BaselineInfo {
  /** The baseline build's entry point, for SOCKJS_EXPRESS_LIB. */
  lib: string;
}

function run(command: string, args: string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.error !== undefined) throw new Error(`${command} ${args.join(' ')}: ${result.error.message}`);
  if (result.status !== 0) {
    const output = (result.stderr + result.stdout).trim();
    throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.signal}):\n${output}`);
  }
  return result.stdout.trim();
}

/** The baseline's library, built if this commit has no build in the cache yet. */
export function prepareBaseline(ref: string): Baseline {
  let sha: string;
  try {
    sha = run('git', ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], ROOT);
  } catch {
    throw new Error(`--baseline ${ref}: not a commit in ${ROOT}`);
  }
  const subject = run('git', ['log', '-1', '--format=%s', sha], ROOT);
  const dir = join(CACHE, sha);
  const lib = join(dir, 'build', 'lib', 'index.js');
  const name = `baseline ${ref} (${sha.slice(0, 12)} ${subject})`;
  if (existsSync(lib)) {
    console.log(`${name}: built in ${relative(ROOT, dir)}/`);
    return { ref, sha, subject, lib };
  }

  // Built beside its final place and moved there whole: an interrupted build leaves no
  // half-built directory for the next run to take as done.
  const work = `${dir}.tmp-${process.pid}`;
  const started = Date.now();
  console.log(`${name}: exporting and building into ${relative(ROOT, dir)}/ ...`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    const archive = `${work}.tar`;
    try {
      run('git', ['archive', '--format=tar', '-o', archive, sha], ROOT);
      run('tar', ['-xf', archive, '-C', work], ROOT);
    } finally {
      rmSync(archive, { force: true });
    }
    if (!existsSync(join(work, 'tsconfig.spec.json')))
      throw new Error(`${name} has no tsconfig.spec.json: it cannot be built as this tree is`);
    symlinkSync(realpathSync(join(ROOT, 'node_modules')), join(work, 'node_modules'), 'dir');
    const tsc = createRequire(join(work, 'package.json')).resolve('typescript/bin/tsc');
    try {
      run(process.execPath, [tsc, '-p', 'tsconfig.spec.json'], work);
    } catch (error) {
      throw new Error(`${name} does not compile: ${(error as Error).message}`, { cause: error });
    }
    if (!existsSync(join(work, 'build', 'lib', 'index.js')))
      throw new Error(`${name}: its build has no build/lib/index.js`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(work, dir);
  } catch (error) {
    rmSync(work, { recursive: true, force: true });
    throw error;
  }
  console.log(`${name}: built in ${Math.round((Date.now() - started) / 1000)} s`);
  return { ref, sha, subject, lib };
}
