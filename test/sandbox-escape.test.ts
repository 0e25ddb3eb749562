/**
 * Escape attempts against Evaluate Code's QuickJS sandbox that
 * test/evaluate-code.test.ts does not already make: other routes to a
 * Function constructor, engine-specific hooks, pollution of the HOST's
 * prototypes through inputs and results, blocking and uncatchable-timeout
 * tricks, loops hidden in serialisation and in error reporting, recursion
 * through proxies and the parser, oversized buffers, and inputs nested
 * past the host's stack. Each is contained with a clear, stable error, and
 * the sandbox keeps answering afterwards.
 */
import { CodeFailure, CodeFailureType } from '../src/sandbox/errors';
import { CodeSandbox } from '../src/sandbox/quickjs-sandbox';

const sandbox = new CodeSandbox();
afterAll(() => sandbox.dispose());

async function outcome(code: string, inputs: unknown = {}, options: Parameters<CodeSandbox['evaluate']>[2] = {}): Promise<{ value: unknown } | { type: string; message: string }> {
  try {
    return { value: await sandbox.evaluate(code, inputs, options) };
  } catch (err) {
    if (err instanceof CodeFailure) return { type: err.type, message: err.message };
    throw err;
  }
}

afterEach(async () => {
  // Whatever the attempt did, the next call gets a clean, working sandbox.
  expect(await sandbox.evaluate('return [typeof process, ({}).polluted ?? null, inputs.n + 1]', { n: 1 })).toEqual(['undefined', null, 2]);
});

describe('Function constructors and engine hooks lead back into the sandbox', () => {
  it.each([
    ['an async function\'s constructor', 'return (async function () {}).constructor("return process")()', { type: CodeFailureType.Error, message: "the returned promise was rejected: ReferenceError: 'process' is not defined (line 1)" }],
    ['a generator\'s constructor', 'return (function* () {}).constructor("return this")().next().value === globalThis', { value: true }],
    ['an async generator\'s constructor', 'return typeof (async function* () {}).constructor("return require")', { value: 'function' }],
    ['Reflect.construct(Function)', 'return Reflect.construct(Function, ["return typeof require"])()', { value: 'undefined' }],
    ['indirect eval', 'return (0, eval)("this") === globalThis && typeof (0, eval)("process")', { type: CodeFailureType.Error, message: "ReferenceError: 'process' is not defined" }],
    ['inputs.constructor.constructor', 'return inputs.constructor.constructor("return typeof globalThis.process")()', { value: 'undefined' }],
    ['a bound function\'s constructor', 'return (() => 0).bind(null).constructor("return Object.keys(globalThis).length")() >= 0', { value: true }],
    ['V8\'s Error.prepareStackTrace', 'Error.prepareStackTrace = (_e, frames) => frames.map((f) => f.getThis()); return typeof new Error("x").stack', { value: 'string' }],
    ['host and runtime globals', 'return [typeof gc, typeof print, typeof scriptArgs, typeof Deno, typeof Bun, typeof Atomics, typeof importScripts, typeof postMessage]', { value: Array(8).fill('undefined') }],
  ])('%s', async (_name, code, expected) => {
    expect(await outcome(code)).toEqual(expected);
  });
});

describe('the host\'s prototypes stay untouched', () => {
  it('an input with a "__proto__" key is data in the sandbox, not a prototype there or here', async () => {
    const inputs = JSON.parse('{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}}');
    // An own key named "__proto__" on an ordinary object: nothing inherits from it.
    expect(await outcome('return [({}).polluted ?? null, inputs.polluted ?? null, Object.getPrototypeOf(inputs) === Object.prototype, Object.keys(inputs).sort()]', inputs)).toEqual({
      value: [null, null, true, ['__proto__', 'constructor']],
    });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('a result built to pollute comes out as plain own keys', async () => {
    const result = await outcome(`
      Object.prototype.polluted = "inside";
      Array.prototype.push = () => "hijacked";
      return JSON.parse('{"__proto__": {"polluted": "yes"}, "nested": {"__proto__": {"isAdmin": true}}}');
    `);
    expect(result).toEqual({ value: JSON.parse('{"__proto__": {"polluted": "yes"}, "nested": {"__proto__": {"isAdmin": true}}}') });
    const value = (result as { value: Record<string, any> }).value;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(value, '__proto__')).toBe(true);
    expect(value.nested.isAdmin).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(([] as unknown[]).push(1)).toBe(1);
  });

  it('inputs given by the host are not changed by the code', async () => {
    const inputs = { list: [1], nested: { keep: true } };
    await outcome('inputs.nested.keep = false; delete inputs.list; Object.freeze = null; return 1', inputs);
    expect(inputs).toEqual({ list: [1], nested: { keep: true } });
  });
});

describe('time: no blocking, no catching the deadline', () => {
  it('has no Atomics.wait to block the worker on', async () => {
    expect(await outcome('const a = new Int32Array(new SharedArrayBuffer(4)); return Atomics.wait(a, 0, 0, 60000)')).toEqual({
      type: CodeFailureType.Error,
      message: "ReferenceError: 'Atomics' is not defined (line 1)",
    });
  });

  it.each([
    ['catching the interrupt and looping again', 'for (;;) { try { while (true) {} } catch (e) {} }'],
    ['looping in finally', 'try { while (true) {} } finally { while (true) {} }'],
    ['looping in toJSON, while the result is serialised', 'return { toJSON() { while (true) {} } }'],
    ['looping in a getter the result exposes', 'return { get v() { for (;;) {} } }'],
    ['looping in the message of a thrown object, while the error is described', 'throw { get message() { while (true) {} } }'],
    ['looping in a then() the runtime calls', 'return Promise.resolve({ then() { while (true) {} } })'],
    ['busy promise chains', 'const spin = () => Promise.resolve().then(spin); spin(); return 1'],
  ])('%s: CodeTimeout', async (_name, code) => {
    expect(await outcome(code, {}, { timeoutMs: 150 })).toEqual({ type: CodeFailureType.Timeout, message: 'the code did not finish within 150 ms' });
  });
});

describe('stack and memory', () => {
  it('recursion through a Proxy trap is a stack overflow inside the sandbox', async () => {
    expect(await outcome('const p = new Proxy({}, { get: (t, k, r) => r[k] }); return p.x')).toEqual({ type: CodeFailureType.Error, message: 'InternalError: stack overflow (line 1)' });
  });

  it('recursion through valueOf coercion is a stack overflow (the host stack may run out first: the sandbox reloads)', async () => {
    expect(await outcome('const o = { valueOf() { return +o } }; return +o')).toEqual({ type: CodeFailureType.Error, message: expect.stringMatching(/stack overflow/) });
  });

  it('a million nested brackets in JSON.parse fail cleanly (the sandbox reloads if the host stack ran out)', async () => {
    expect(await outcome('return JSON.parse("[".repeat(1e6) + "]".repeat(1e6))', {}, { timeoutMs: 5000 })).toEqual({
      type: CodeFailureType.Error,
      message: expect.stringMatching(/stack overflow/),
    });
  });

  it('inputs nested deeper than the host\'s stack are refused with a clear error, not a crash', async () => {
    const deep: Record<string, unknown> = {};
    let cursor = deep;
    for (let i = 0; i < 100_000; i++) cursor = (cursor.a = {}) as Record<string, unknown>;
    expect(await outcome('return 1', { deep })).toEqual({ type: CodeFailureType.Error, message: expect.stringMatching(/^the inputs cannot be handed to the code: .*call stack/) });
  });

  it.each([
    ['a 2 GB ArrayBuffer', 'return new ArrayBuffer(2 ** 31).byteLength', /^(RangeError: invalid array buffer length|the code used more than)/],
    ['a 256 MB typed array', 'return new Uint8Array(2 ** 28).length', /the code used more than its 16 MB of memory|RangeError/],
    ['an array of a billion holes, filled', 'return new Array(1e9).fill(0).length', /the code used more than its 16 MB of memory|RangeError|InternalError/],
    ['a huge join', 'return new Array(1e8).join("xx").length', /the code used more than its 16 MB of memory|string too long|RangeError|InternalError/],
  ])('%s is bounded', async (_name, code, message) => {
    const result = await outcome(code, {}, { memoryMb: 16, timeoutMs: 5000 });
    expect(result).toMatchObject({ type: expect.stringMatching(/^(CodeMemoryLimit|CodeError)$/), message: expect.stringMatching(message) });
  });
});
