// Writes the ES module entries (dist/index.mjs, dist/redis/index.mjs): each re-exports its
// CommonJS build by name, so `import { sockjs } from 'sockjs-express'` and
// `require('sockjs-express')` share one instance of the code. Beside each, its types
// (index.d.mts): the same declarations as the CommonJS entry, seen as an ES module, so that
// TypeScript under `nodenext` knows `import` gets an ES module with a default export.
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';

const require = createRequire(import.meta.url);

/** The entries of package.json "exports", as CommonJS file and ES module file under dist/. */
const ENTRIES = [
  { cjs: '../dist/index.js', esm: '../dist/index.mjs', types: '../dist/index.d.mts' },
  { cjs: '../dist/redis/index.js', esm: '../dist/redis/index.mjs', types: '../dist/redis/index.d.mts' },
];

for (const entry of ENTRIES) {
  const names = Object.keys(require(entry.cjs)).filter((name) => name !== '__esModule');
  const lines = [
    "import cjs from './index.js';",
    ...names.map((name) => `export const ${name} = cjs.${name};`),
    'export default cjs;',
    '',
  ];
  writeFileSync(new URL(entry.esm, import.meta.url), lines.join('\n'));
  const types = ["export * from './index.js';", "import cjs from './index.js';", 'export default cjs;', ''];
  writeFileSync(new URL(entry.types, import.meta.url), types.join('\n'));
}
