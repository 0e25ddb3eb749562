/**
 * Once per `jest` run: start a real Temporal dev server (headless, in memory,
 * with our search attributes) and bundle the workflow code once, so each test
 * file's workers start in a moment. Both are handed to tests through env.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevServer, type DevServer } from '../../temporal/dev-server';
import { bundleWorkflows } from '../../src/worker/bundle';
import { SEARCH_ATTRIBUTE_TYPES } from '../../src/workflows/run-contract';

declare global {
  // eslint-disable-next-line no-var
  var __TEMPORAL_DEV_SERVER__: DevServer | undefined;
}

export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  const server = await startDevServer({
    headless: true,
    searchAttributes: SEARCH_ATTRIBUTE_TYPES,
    log: (line) => {
      if (process.env.TEST_VERBOSE) console.log(line);
    },
  });
  globalThis.__TEMPORAL_DEV_SERVER__ = server;
  const bundle = await bundleWorkflows();
  const bundlePath = join(tmpdir(), `idw-workflow-bundle-${process.pid}.js`);
  writeFileSync(bundlePath, bundle.code);
  process.env.TEST_TEMPORAL_ADDRESS = server.address;
  process.env.TEST_WORKFLOW_BUNDLE = bundlePath;
  console.log(`\n[test setup] Temporal dev server at ${server.address}, workflow bundle ready (${Date.now() - started} ms)`);
}
