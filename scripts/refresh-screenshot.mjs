// Retakes docs/demo.png, the README's picture of the demo: runs the browser spec (headless
// Debian Chromium) with UPDATE_DEMO_SCREENSHOT=1, the only run that writes outside a
// temporary folder. Build first: `npm run screenshot` does both.
import { spawnSync } from 'node:child_process';

const result = spawnSync(process.execPath, ['scripts/run-tests.mjs', 'build/spec/e2e/browser.test.js'], {
  stdio: 'inherit',
  env: { ...process.env, UPDATE_DEMO_SCREENSHOT: '1' },
});
process.exit(result.status ?? 1);
