// Writes dist/index.mjs: an ES module entry that re-exports the CommonJS build by name,
// so `import { sockjs } from 'sockjs-express'` and `require('sockjs-express')` share one
// instance of the code.
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';

const require = createRequire(import.meta.url);
const names = Object.keys(require('../dist/index.js')).filter((name) => name !== '__esModule');
const lines = [
  "import cjs from './index.js';",
  ...names.map((name) => `export const ${name} = cjs.${name};`),
  'export default cjs;',
  '',
];
writeFileSync(new URL('../dist/index.mjs', import.meta.url), lines.join('\n'));
