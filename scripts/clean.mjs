// Removes a build output folder, so that files whose sources were deleted or moved do not
// linger there (tsc never deletes anything): a stale compiled spec would still run.
import { rmSync } from 'node:fs';

for (const folder of process.argv.slice(2)) rmSync(folder, { recursive: true, force: true });
