/**
 * Evaluate Code off the event loop: a small pool of worker threads, each
 * running QuickJS (CodeSandbox) one call at a time.
 *
 * Why threads: QuickJS polls its interrupt handler between bytecodes, but
 * not inside one long native operation (`(3n ** 660000n).toString()` ran
 * 4.9 s against a 100 ms deadline), and the API, the router and the worker
 * share one event loop under `npm start`. In a thread the code cannot hold
 * that loop at all, and the parent terminates the thread when the deadline
 * has passed (plus DEADLINE_GRACE_MS for QuickJS to say so itself), which
 * holds whatever the code is doing. A terminated thread is replaced on the
 * next call.
 *
 * The failure types stay those of CodeFailureType: a thread terminated at
 * the deadline is a CodeTimeout, a thread that ran out of its V8 heap a
 * CodeMemoryLimit. A thread that fails to start is a plain Error (the
 * action's retry policy gives the host a second try).
 *
 * Calls beyond the pool's size wait their turn; their deadline starts when
 * their code starts. Idle threads do not keep the process alive.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { CodeFailure, CodeFailureType } from './errors';
import { CODE_LIMITS, type EvaluateOptions } from './quickjs-sandbox';

/** What runs the Evaluate Code action's code: the pool in production, CodeSandbox in-thread in unit tests. */
export interface CodeRunner {
  evaluate(code: string, inputs?: unknown, options?: EvaluateOptions): Promise<unknown>;
}

export interface CodeTask {
  id: number;
  code: string;
  inputs: unknown;
  timeoutMs: number;
  memoryMb: number;
  maxOutputBytes?: number;
}

export type WorkerMessage =
  | { ready: true }
  | { ready: false; error: string }
  | { id: number; started: true }
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; failure: { type: CodeFailureType; message: string } }
  | { id: number; ok: false; error: string };

/** After the deadline, how long QuickJS has to stop the code itself before the thread is terminated. */
export const DEADLINE_GRACE_MS = 50;
/** A thread that has not started the code this long after it was handed over (loading an engine) is terminated. */
const START_ALLOWANCE_MS = 10_000;
/** The thread's own V8 heap (QuickJS's memory is WebAssembly memory, bounded separately). */
const WORKER_HEAP_MB = 128;

const ENTRY = join(__dirname, 'code-worker.cjs');

interface Job {
  task: CodeTask;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  job?: Job;
  timer?: NodeJS.Timeout;
  gone: boolean;
}

export interface CodeWorkerPoolOptions {
  /** Threads at most; default: the number of CPUs, from 2 to 4. */
  size?: number;
}

export class CodeWorkerPool implements CodeRunner {
  private readonly size: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private disposing = false;

  constructor(options: CodeWorkerPoolOptions = {}) {
    this.size = Math.max(1, options.size ?? Math.min(4, Math.max(2, availableParallelism())));
  }

  evaluate(code: string, inputs: unknown = {}, options: EvaluateOptions = {}): Promise<unknown> {
    const task: CodeTask = {
      id: this.nextId++,
      code,
      inputs,
      timeoutMs: Math.min(CODE_LIMITS.maxTimeoutMs, Math.max(1, options.timeoutMs ?? CODE_LIMITS.defaultTimeoutMs)),
      memoryMb: options.memoryMb ?? CODE_LIMITS.defaultMemoryMb,
      maxOutputBytes: options.maxOutputBytes,
    };
    return new Promise((resolve, reject) => {
      this.queue.push({ task, resolve, reject });
      this.pump();
    });
  }

  /** Threads alive now (for tests). */
  get threads(): number {
    return this.slots.length;
  }

  /**
   * Terminate every thread; calls waiting or running fail. A later call
   * starts fresh threads (a test that closes its service and starts
   * another can keep using the process's pool).
   */
  async dispose(): Promise<void> {
    this.disposing = true;
    try {
      for (const job of this.queue.splice(0)) job.reject(new Error('the code worker pool was closed'));
      await Promise.all([...this.slots].map((slot) => this.retire(slot, new Error('the code worker pool was closed'))));
    } finally {
      this.disposing = false;
    }
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => !s.job && !s.gone);
      if (!slot) {
        if (this.slots.length >= this.size) return;
        slot = this.spawn();
      }
      this.run(slot, this.queue.shift()!);
    }
  }

  private spawn(): Slot {
    const worker = new Worker(ENTRY, { execArgv: [], resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB }, stdout: false, stderr: false });
    worker.unref();
    let markReady!: () => void;
    let failReady!: (err: Error) => void;
    const ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failReady = reject;
    });
    ready.catch(() => undefined);
    const slot: Slot = { worker, ready, gone: false };
    worker.on('message', (message: WorkerMessage) => {
      if ('ready' in message) {
        if (message.ready) markReady();
        else failReady(new Error(`the code worker could not load QuickJS: ${message.error}`));
        return;
      }
      this.onMessage(slot, message);
    });
    worker.on('error', (err: Error & { code?: string }) => {
      failReady(err);
      const failure =
        err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? new CodeFailure(CodeFailureType.MemoryLimit, 'the code used more memory than its worker allows') : new Error(`the code worker failed: ${err.message}`);
      void this.retire(slot, failure);
    });
    worker.on('exit', (code) => {
      failReady(new Error(`the code worker exited (${code}) before it was ready`));
      void this.retire(slot, new Error(`the code worker exited (${code})`));
    });
    this.slots.push(slot);
    return slot;
  }

  private run(slot: Slot, job: Job): void {
    slot.job = job;
    slot.ready.then(
      () => {
        if (slot.gone || slot.job !== job) return;
        slot.worker.postMessage(job.task);
        // Until the thread says the code starts (its engine may be loading), a generous allowance.
        slot.timer = setTimeout(() => void this.retire(slot, new Error('the code worker did not start the code in time')), START_ALLOWANCE_MS);
      },
      (err: Error) => void this.retire(slot, err),
    );
  }

  private onMessage(slot: Slot, message: Exclude<WorkerMessage, { ready: boolean }>): void {
    const job = slot.job;
    if (!job || job.task.id !== message.id) return;
    if ('started' in message) {
      clearTimeout(slot.timer);
      const { timeoutMs } = job.task;
      slot.timer = setTimeout(
        () => void this.retire(slot, new CodeFailure(CodeFailureType.Timeout, `the code did not finish within ${timeoutMs} ms`)),
        timeoutMs + DEADLINE_GRACE_MS,
      );
      return;
    }
    clearTimeout(slot.timer);
    slot.timer = undefined;
    slot.job = undefined;
    if (message.ok) job.resolve(message.value);
    else if ('failure' in message) job.reject(new CodeFailure(message.failure.type, message.failure.message));
    else job.reject(new Error(message.error));
    this.pump();
  }

  /** Drop a thread (terminating it), failing its call with `reason`; the queue moves on with a fresh one. */
  private async retire(slot: Slot, reason: Error): Promise<void> {
    if (slot.gone) return;
    slot.gone = true;
    clearTimeout(slot.timer);
    const index = this.slots.indexOf(slot);
    if (index >= 0) this.slots.splice(index, 1);
    const job = slot.job;
    slot.job = undefined;
    job?.reject(reason);
    if (!this.disposing) this.pump();
    await slot.worker.terminate().catch(() => undefined);
  }
}

let shared: CodeWorkerPool | undefined;

/** The process's pool, made on first use. */
export function sharedCodePool(): CodeWorkerPool {
  shared ??= new CodeWorkerPool();
  return shared;
}
