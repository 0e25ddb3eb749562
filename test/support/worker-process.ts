/**
 * A worker in its own process, so a test can kill it with SIGKILL mid-run.
 * Same code as the in-process worker: real registry plus the test actions,
 * real PostgreSQL (the test's schema), the shared dev server and bundle.
 */
import { readFileSync } from 'node:fs';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createRegistry } from '../../src/activities';
import { AesGcmPayloadCodec, parsePayloadKeys } from '../../src/codec';
import { CredentialStore } from '../../src/credentials/store';
import { connectPostgres } from '../../src/store/db';
import { WorkflowStore } from '../../src/store/workflow-store';
import { createRunWorker } from '../../src/worker/create-worker';
import { testActions } from './test-actions';

async function main(): Promise<void> {
  const env = (name: string): string => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set`);
    return value;
  };
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const db = await connectPostgres({ url: env('TEST_DATABASE_URL'), schema: env('WORKER_DB_SCHEMA'), max: 3 });
  const connection = await NativeConnection.connect({ address: env('TEST_TEMPORAL_ADDRESS') });
  const worker = await createRunWorker({
    connection,
    namespace: 'default',
    taskQueue: env('WORKER_TASK_QUEUE'),
    registry: createRegistry({ db, credentials: new CredentialStore(db, Buffer.from('7e57c0de'.repeat(8), 'hex') /* harness.ts TEST_CREDENTIALS_KEY; not imported, to keep this process light */), network: { allowList: ['127.0.0.1', '::1', 'localhost'] } }, testActions(db)),
    workflows: new WorkflowStore(db),
    db,
    workflowBundle: { code: readFileSync(env('TEST_WORKFLOW_BUNDLE'), 'utf8') },
    // harness.ts TEST_PAYLOAD_KEYS, repeated rather than imported for the same reason as the credentials key.
    payloadCodec: new AesGcmPayloadCodec(parsePayloadKeys(`test-2:${Buffer.alloc(32, 2).toString('base64')},test-1:${Buffer.alloc(32, 1).toString('base64')}`)),
    // A killed worker's sticky queue is abandoned: move on to the normal queue quickly.
    extra: { stickyQueueScheduleToStartTimeout: '1s' },
  });
  const running = worker.run();
  process.stdout.write('worker ready\n');
  await running;
}

main().catch((err: Error) => {
  process.stderr.write(`worker failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
