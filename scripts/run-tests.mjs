// Runs every compiled spec file with Node's test runner. Listing the files here keeps
// one command working on Node 18, 20 and 22, whose `--test` argument rules differ.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function find(dir) {
  const files = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files.push(...find(path));
    else if (name.endsWith('.test.js')) files.push(path);
  }
  return files;
}

const roots = process.argv.slice(2);
const files = (roots.length > 0 ? roots : ['build/spec'])
  .flatMap((root) => (statSync(root).isDirectory() ? find(root) : [root]))
  .sort();
const result = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...files], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
