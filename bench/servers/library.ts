/**
 * The sockjs-express a target script runs: this tree's build, or the build that
 * `SOCKJS_EXPRESS_LIB` names (the runner sets it for the `@base` twins of a `--baseline`
 * run, pointing at that commit's `build/lib/index.js`). The scripts stay typed by this
 * tree's sources; what a baseline lacks of what they use is an error at startup.
 */
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import type * as Library from '../../lib/index';

type Exports = typeof Library;

/** The entry point loaded: absolute, or this tree's `build/lib/index.js`. */
export const LIBRARY_PATH = resolve(process.env['SOCKJS_EXPRESS_LIB'] || join(__dirname, '../../lib/index'));

/**
 * The library's exports, checked for the ones the script uses: a build that lacks one
 * stops the server before it listens, and the runner reports why.
 */
export function library<K extends keyof Exports>(...names: K[]): Pick<Exports, K> {
  let loaded: Partial<Exports>;
  try {
    loaded = createRequire(__filename)(LIBRARY_PATH) as Partial<Exports>;
  } catch (error) {
    fail(`cannot load sockjs-express from ${LIBRARY_PATH}: ${(error as Error).message}`);
  }
  const missing = names.filter((name) => loaded[name] === undefined);
  if (missing.length > 0) {
    fail(
      `sockjs-express at ${LIBRARY_PATH} does not export ${missing.join(', ')}, which this target ` +
        'needs (a baseline from before it was added cannot run this target)',
    );
  }
  return loaded as Pick<Exports, K>;
}

function fail(message: string): never {
  // Said to the runner too, which otherwise sees only an exit before listening.
  process.send?.({ type: 'fatal', message });
  throw new Error(message);
}
