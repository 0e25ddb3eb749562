/**
 * Runs user JavaScript (the Evaluate Code action) in QuickJS compiled to
 * WebAssembly (quickjs-emscripten). The code sees only the ECMAScript
 * built-ins and its `inputs`: no `require`, no modules, no timers, no
 * network, no file system, no host object at all.
 *
 * Each call gets a fresh runtime and context (its own heap, globals and
 * prototypes: nothing one call does, e.g. polluting Object.prototype, is
 * seen by the next) on a WASM module that is loaded once and kept. Loading
 * the module is the expensive part (~40 ms); a runtime costs ~0.02 ms and a
 * context ~0.2 ms, so a cheap snippet stays well under a millisecond warm.
 * Runtimes are not pooled on purpose: the prebuilt module cannot measure
 * its allocations (no malloc_usable_size), so QuickJS's own memory limit
 * only bounds single allocations and its garbage collector runs late;
 * garbage left by one call would count against the next. Disposing the
 * runtime frees everything at once.
 *
 * Limits:
 * - memory: each module gets a WebAssembly.Memory with a fixed maximum,
 *   so the heap cannot grow past it and QuickJS throws "out of memory".
 *   One module per memory size (rounded up to a multiple of 16 MB).
 * - time: QuickJS polls an interrupt handler while it runs (also inside
 *   built-ins such as regular expressions); past the deadline it stops.
 * - stack: QuickJS's stack limit turns deep recursion into a catchable
 *   "stack overflow". Some recursions in QuickJS's C code (JSON.stringify
 *   of a very deeply nested value, for one) exhaust the host's native stack
 *   first and V8 throws out of the module instead.
 * - output: the result is serialised with JSON.stringify inside (captured
 *   before the user's code runs, so replacing JSON changes nothing), size
 *   checked, and parsed outside.
 *
 * A module that threw out of WASM (native stack exhausted, a trap) or hit
 * its memory maximum may be left inconsistent: it is dropped and a fresh
 * one is loaded for the next call.
 *
 * Evaluation is synchronous: it holds the worker's event loop for at most
 * the deadline (5 s at the ceiling).
 */
import { newQuickJSWASMModuleFromVariant, newVariant, RELEASE_SYNC, type QuickJSContext, type QuickJSHandle, type QuickJSRuntime, type QuickJSWASMModule } from 'quickjs-emscripten';
import { CodeFailure, CodeFailureType } from './errors';

export const CODE_LIMITS = {
  defaultTimeoutMs: 1000,
  maxTimeoutMs: 5000,
  defaultMemoryMb: 32,
  minMemoryMb: 16,
  maxMemoryMb: 64,
  /** Memory limits are applied in steps of this size (one WASM module per step). */
  memoryStepMb: 16,
  /** The returned value as JSON (UTF-8 bytes). */
  maxOutputBytes: 256 * 1024,
  /**
   * QuickJS's own stack limit: small enough that ordinary deep recursion
   * hits it (about 1,300 nested calls of a simple function) long before the
   * host's native stack runs out.
   */
  stackBytes: 256 * 1024,
} as const;

const MB = 1024 * 1024;
const WASM_PAGE = 64 * 1024;
/** The prebuilt module starts with 16 MB of memory, ~6 MB of it its own stack, data and runtime. */
const MODULE_INITIAL_BYTES = 16 * MB;
const MODULE_OWN_BYTES = 6 * MB;
const MAX_MESSAGE = 2000;
/** QuickJS compiles `new Function(...)` as "(function anonymous(inputs\n) {\n" + body: two lines before the body's first. */
const BODY_LINE_OFFSET = 2;

export interface EvaluateOptions {
  /** Deadline for the whole call, including promises the code awaits. */
  timeoutMs?: number;
  memoryMb?: number;
  maxOutputBytes?: number;
}

/** The part of WebAssembly.Memory used here (the project's TypeScript lib has no WebAssembly types). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
const WasmMemory = (globalThis as unknown as { WebAssembly: { Memory: new (limits: { initial: number; maximum: number }) => WasmMemory } }).WebAssembly.Memory;

/** One loaded WASM module with a fixed memory maximum. */
interface Engine {
  module: QuickJSWASMModule;
  memory: WasmMemory;
  maximumBytes: number;
}

const PRELUDE = `(function () {
  "use strict";
  const FunctionConstructor = Function;
  const parse = JSON.parse;
  const stringify = JSON.stringify;
  const finite = Number.isFinite;
  class ResultNotJson extends Error {}
  ResultNotJson.prototype.name = "ResultNotJson";
  const where = (key) => (key === "" ? "the result" : "the value at key " + stringify(String(key)));
  function replacer(key, value) {
    switch (typeof value) {
      case "function": throw new ResultNotJson(where(key) + " is a function");
      case "symbol": throw new ResultNotJson(where(key) + " is a symbol");
      case "bigint": throw new ResultNotJson(where(key) + " is a BigInt (convert it to a string or a number)");
      case "number": if (!finite(value)) throw new ResultNotJson(where(key) + " is " + String(value) + ", which JSON cannot hold");
    }
    return value;
  }
  return [
    (code) => FunctionConstructor("inputs", code),
    (text) => parse(text),
    (value) => (value === undefined ? "null" : stringify(value, replacer)),
  ];
})()`;

type Phase = 'compile' | 'inputs' | 'run' | 'serialize';

interface Dumped {
  name?: string;
  message?: string;
  stack?: string;
  lineNumber?: number;
}

export class CodeSandbox {
  private readonly engines = new Map<number, Promise<Engine>>();

  /** Load the module for this memory size now rather than on the first call. */
  async warm(memoryMb: number = CODE_LIMITS.defaultMemoryMb): Promise<void> {
    await this.engine(memoryStep(memoryMb));
  }

  /**
   * Run `code` as the body of `function (inputs) { ... }` and return its
   * result as a JSON value (undefined becomes null; a returned promise is
   * awaited). Throws CodeFailure for anything the code did wrong.
   */
  async evaluate(code: string, inputs: unknown = {}, options: EvaluateOptions = {}): Promise<unknown> {
    const step = memoryStep(options.memoryMb ?? CODE_LIMITS.defaultMemoryMb);
    const engine = await this.engine(step);
    return this.evaluateOn(engine, step, code, inputs, options);
  }

  /** Forget every loaded module (they are garbage once nothing refers to them). */
  dispose(): void {
    this.engines.clear();
  }

  private engine(memoryMb: number): Promise<Engine> {
    let loading = this.engines.get(memoryMb);
    if (!loading) {
      loading = loadEngine(memoryMb);
      const started = loading;
      // A failed load is not kept: the next call tries again.
      started.catch(() => {
        if (this.engines.get(memoryMb) === started) this.engines.delete(memoryMb);
      });
      this.engines.set(memoryMb, loading);
    }
    return loading;
  }

  private dropEngine(memoryMb: number, engine: Engine): void {
    const current = this.engines.get(memoryMb);
    void current?.then((loaded) => {
      if (loaded === engine && this.engines.get(memoryMb) === current) this.engines.delete(memoryMb);
    });
  }

  private evaluateOn(engine: Engine, memoryMb: number, code: string, inputs: unknown, options: EvaluateOptions): unknown {
    const timeoutMs = Math.min(CODE_LIMITS.maxTimeoutMs, Math.max(1, options.timeoutMs ?? CODE_LIMITS.defaultTimeoutMs));
    const maxOutputBytes = options.maxOutputBytes ?? CODE_LIMITS.maxOutputBytes;
    let inputsJson: string;
    try {
      inputsJson = JSON.stringify(inputs ?? {});
    } catch (err) {
      // A value nested deeper than the host's own stack, or a cycle: the code could not be given it either.
      throw new CodeFailure(CodeFailureType.Error, `the inputs cannot be handed to the code: ${(err as Error).message}`);
    }
    const timeout = (): CodeFailure => new CodeFailure(CodeFailureType.Timeout, `the code did not finish within ${timeoutMs} ms`);
    const outOfMemory = (): CodeFailure => new CodeFailure(CodeFailureType.MemoryLimit, `the code used more than its ${memoryMb} MB of memory`);

    const deadline = performance.now() + timeoutMs;
    let timedOut = false;
    const handles: QuickJSHandle[] = [];
    const own = (handle: QuickJSHandle): QuickJSHandle => {
      handles.push(handle);
      return handle;
    };
    let runtime: QuickJSRuntime | undefined;
    let context: QuickJSContext | undefined;
    let dropEngine = false;
    try {
      runtime = engine.module.newRuntime();
      runtime.setMaxStackSize(CODE_LIMITS.stackBytes);
      // Bounds single allocations early; the memory maximum bounds the total.
      runtime.setMemoryLimit(memoryMb * MB);
      runtime.setInterruptHandler(() => {
        if (performance.now() < deadline) return false;
        timedOut = true;
        return true;
      });
      const rt = runtime;
      const ctx = (context = rt.newContext());
      const failed = (phase: Phase, error: QuickJSHandle): CodeFailure => {
        own(error);
        if (timedOut) return timeout();
        const described = describeFailure(ctx, error, phase, timeout, outOfMemory, () => memoryExhausted(engine));
        // Describing runs the code's own getters (a thrown object's message): one that spins runs into the deadline.
        return timedOut ? timeout() : described;
      };
      const call = (phase: Phase, fn: QuickJSHandle, ...args: QuickJSHandle[]): QuickJSHandle => {
        const result = ctx.callFunction(fn, ctx.undefined, ...args);
        if (result.error) throw failed(phase, result.error);
        return own(result.value);
      };

      const prelude = ctx.evalCode(PRELUDE, 'prelude.js');
      if (prelude.error) throw failed('inputs', prelude.error);
      const helpers = own(prelude.value);
      const compile = own(ctx.getProp(helpers, 0));
      const parseInputs = own(ctx.getProp(helpers, 1));
      const serialize = own(ctx.getProp(helpers, 2));

      const fn = call('compile', compile, own(ctx.newString(code)));
      const inputsValue = call('inputs', parseInputs, own(ctx.newString(inputsJson)));
      let result = call('run', fn, inputsValue);

      // Promise jobs the code started (awaited or not) must finish before the deadline.
      const jobs = rt.executePendingJobs(-1);
      if (jobs.error) throw failed('run', jobs.error);
      if (timedOut || rt.hasPendingJob()) throw timeout();
      const state = ctx.getPromiseState(result);
      if (state.type === 'pending') {
        throw new CodeFailure(CodeFailureType.Error, 'the code returned a promise that never settles (there are no timers or I/O to wait for in the sandbox)');
      }
      if (state.type === 'rejected') {
        const reason = failed('run', state.error);
        throw reason.type === CodeFailureType.Error ? new CodeFailure(reason.type, `the returned promise was rejected: ${reason.message}`) : reason;
      }
      if (!state.notAPromise) result = own(state.value);

      const json = call('serialize', serialize, result);
      const length = ctx.getNumber(own(ctx.getProp(json, 'length')));
      // Characters never outnumber UTF-8 bytes: too many characters is too large without copying it out.
      if (length > maxOutputBytes) throw tooLarge(length, maxOutputBytes, 'characters');
      const text = ctx.getString(json);
      const bytes = Buffer.byteLength(text);
      if (bytes > maxOutputBytes) throw tooLarge(bytes, maxOutputBytes, 'bytes');
      return JSON.parse(text);
    } catch (err) {
      if (err instanceof CodeFailure) {
        // Out-of-memory paths in QuickJS are the least travelled: do not trust the module afterwards.
        if (err.type === CodeFailureType.MemoryLimit) dropEngine = true;
        throw err;
      }
      // Anything else came out of the WASM module itself, which stopped midway.
      dropEngine = true;
      if (err instanceof RangeError && /call stack/i.test(err.message)) {
        throw new CodeFailure(CodeFailureType.Error, 'stack overflow: the code nests too deeply (deep recursion or a very deeply nested value)');
      }
      if (memoryExhausted(engine)) throw outOfMemory();
      if (timedOut) throw timeout();
      throw err;
    } finally {
      // QuickJS cannot free a runtime with jobs still queued (its assertion aborts the module): let the module go instead.
      if (!dropEngine && runtime?.alive && runtime.hasPendingJob()) dropEngine = true;
      if (dropEngine) {
        // Do not touch a module that may be inconsistent, not even to free it.
        this.dropEngine(memoryMb, engine);
      } else {
        try {
          for (const handle of handles.reverse()) if (handle.alive) handle.dispose();
          context?.dispose();
          runtime?.dispose();
        } catch {
          // Freeing a runtime stopped with jobs still queued can trip QuickJS's own
          // assertions and abort the module: the call's failure stands, the module goes.
          this.dropEngine(memoryMb, engine);
        }
      }
    }
  }
}

/** The memory size a call runs with: within the limits, rounded up to a whole step. */
export function memoryStep(memoryMb: number): number {
  const within = Math.min(CODE_LIMITS.maxMemoryMb, Math.max(CODE_LIMITS.minMemoryMb, memoryMb));
  return Math.ceil(within / CODE_LIMITS.memoryStepMb) * CODE_LIMITS.memoryStepMb;
}

/**
 * The module's memory has grown close to its maximum: a failure then is
 * taken for running out of memory even when QuickJS did not say so (it
 * throws null when it cannot allocate its error object, and some of its
 * paths trap instead). Close means within half the budget, because a
 * growing array or map asks for its next block all at once.
 */
function memoryExhausted(engine: Engine): boolean {
  return engine.memory.buffer.byteLength > engine.maximumBytes - (engine.maximumBytes - MODULE_OWN_BYTES) / 2;
}

async function loadEngine(memoryMb: number): Promise<Engine> {
  const maximumBytes = Math.max(MODULE_INITIAL_BYTES, MODULE_OWN_BYTES + memoryMb * MB);
  const memory = new WasmMemory({ initial: MODULE_INITIAL_BYTES / WASM_PAGE, maximum: Math.ceil(maximumBytes / WASM_PAGE) });
  const module = await newQuickJSWASMModuleFromVariant(newVariant(RELEASE_SYNC, { wasmMemory: memory as never }));
  return { module, memory, maximumBytes };
}

function tooLarge(size: number, limit: number, unit: string): CodeFailure {
  return new CodeFailure(CodeFailureType.OutputTooLarge, `the result is ${size} ${unit} as JSON; the limit is ${limit} bytes`);
}

function describeFailure(
  ctx: QuickJSContext,
  error: QuickJSHandle,
  phase: Phase,
  timeout: () => CodeFailure,
  outOfMemory: () => CodeFailure,
  exhausted: () => boolean,
): CodeFailure {
  let dumped: Dumped | string | undefined;
  try {
    dumped = ctx.dump(error) as Dumped | string;
  } catch {
    // Dumping needs memory too; failing to is itself a sign the limit was hit.
    return outOfMemory();
  }
  // Out of memory, QuickJS cannot even allocate its error object and throws null instead.
  if ((dumped === null || dumped === undefined) && exhausted()) return outOfMemory();
  const isError = typeof dumped === 'object' && dumped !== null && typeof dumped.message === 'string';
  const name = isError ? (dumped as Dumped).name ?? 'Error' : undefined;
  const message = isError ? (dumped as Dumped).message! : describeThrown(dumped);
  if (name === 'InternalError' && /out of memory/i.test(message)) return outOfMemory();
  if (name === 'InternalError' && message === 'interrupted') return timeout();
  if (phase === 'compile' && name === 'SyntaxError') {
    const line = (dumped as Dumped).lineNumber;
    const at = typeof line === 'number' && line > BODY_LINE_OFFSET ? ` (line ${line - BODY_LINE_OFFSET})` : '';
    return new CodeFailure(CodeFailureType.SyntaxError, truncate(`SyntaxError: ${message}${at}`));
  }
  if (phase === 'serialize' && (name === 'ResultNotJson' || (name === 'TypeError' && /circular/i.test(message)))) {
    return new CodeFailure(CodeFailureType.ResultNotJson, truncate(`the result is not JSON: ${name === 'TypeError' ? 'it contains a circular reference' : message}`));
  }
  const line = isError ? lineOf((dumped as Dumped).stack) : undefined;
  const label = isError ? `${name}: ${message}` : `threw ${message}`;
  return new CodeFailure(CodeFailureType.Error, truncate(`${label}${line ? ` (line ${line})` : ''}`));
}

/** The line in the user's body of the innermost frame of their code. */
function lineOf(stack: string | undefined): number | undefined {
  const match = stack ? /<input>:(\d+):\d+/.exec(stack) : null;
  if (!match) return undefined;
  const line = Number(match[1]) - BODY_LINE_OFFSET;
  return line >= 1 ? line : undefined;
}

function describeThrown(value: unknown): string {
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function truncate(text: string): string {
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}…` : text;
}
