/**
 * Inside an Evaluate Code worker thread: runs one call at a time in QuickJS
 * (CodeSandbox) and answers the pool. Messages:
 *   in:  { id, code, inputs, timeoutMs, memoryMb }
 *   out: { ready } once the default engine is loaded;
 *        { id, started } just before the code runs (the engine it needs is loaded);
 *        { id, ok: true, value } | { id, ok: false, failure: { type, message } } | { id, ok: false, error }.
 * The parent terminates the whole thread when a call overruns its deadline,
 * which holds even inside a long native operation QuickJS cannot interrupt.
 */
import { parentPort } from 'node:worker_threads';
import { CodeFailure } from './errors';
import { CodeSandbox, memoryStep } from './quickjs-sandbox';
import type { CodeTask, WorkerMessage } from './code-pool';

const port = parentPort;
if (!port) throw new Error('code-worker-main runs only as a worker thread');
const sandbox = new CodeSandbox();
const post = (message: WorkerMessage): void => port.postMessage(message);

port.on('message', (task: CodeTask) => {
  void (async () => {
    try {
      await sandbox.warm(memoryStep(task.memoryMb));
      post({ id: task.id, started: true });
      const value = await sandbox.evaluate(task.code, task.inputs, { timeoutMs: task.timeoutMs, memoryMb: task.memoryMb, maxOutputBytes: task.maxOutputBytes });
      post({ id: task.id, ok: true, value });
    } catch (err) {
      if (err instanceof CodeFailure) post({ id: task.id, ok: false, failure: { type: err.type, message: err.message } });
      else post({ id: task.id, ok: false, error: err instanceof Error ? err.message : String(err) });
    }
  })();
});

void sandbox.warm().then(
  () => post({ ready: true }),
  (err: Error) => post({ ready: false, error: err.message }),
);
