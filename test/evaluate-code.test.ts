/**
 * The QuickJS sandbox behind Evaluate Code, called directly: results as
 * JSON, each way user code can fail with its stable type and message,
 * escape attempts that find nothing of the host, nothing leaking from one
 * call to the next, and the sandbox still answering after every kind of
 * failure (including the ones that make it reload its WASM module).
 */
import { CodeFailure, CodeFailureType } from '../src/sandbox/errors';
import { CODE_LIMITS, CodeSandbox, memoryStep } from '../src/sandbox/quickjs-sandbox';

const sandbox = new CodeSandbox();
afterAll(() => sandbox.dispose());

async function failureOf(code: string, inputs: unknown = {}, options: Parameters<CodeSandbox['evaluate']>[2] = {}): Promise<{ type: string; message: string }> {
  try {
    const value = await sandbox.evaluate(code, inputs, options);
    throw new Error(`expected a failure, got ${JSON.stringify(value)}`);
  } catch (err) {
    if (err instanceof CodeFailure) return { type: err.type, message: err.message };
    throw err;
  }
}

/** After a failure the sandbox must still run code correctly. */
async function stillWorks(): Promise<void> {
  expect(await sandbox.evaluate('return inputs.n * 2', { n: 21 })).toBe(42);
}

describe('results', () => {
  it.each([
    ['return inputs.a + inputs.b', { a: 2, b: 3 }, 5],
    ['return { band: inputs.score > 50 ? "high" : "low", tags: inputs.tags.map((t) => t.toUpperCase()) }', { score: 72, tags: ['kyc'] }, { band: 'high', tags: ['KYC'] }],
    ['return inputs', { nested: { list: [1, 'two', null, true, { deep: [] }] } }, { nested: { list: [1, 'two', null, true, { deep: [] }] } }],
    ['return "héllo ✓"', {}, 'héllo ✓'],
    ['const x = 1;', {}, null],
    ['return undefined', {}, null],
    ['return { kept: 1, dropped: undefined }', {}, { kept: 1 }],
    ['return [undefined]', {}, [null]],
    ['return new Date(0)', {}, '1970-01-01T00:00:00.000Z'],
    ['return Promise.resolve({ later: true })', {}, { later: true }],
    ['return (async () => { const v = await Promise.resolve(20); return v + 1 })()', {}, 21],
    ['"use strict"; return this === undefined', {}, true],
  ])('%s', async (code, inputs, expected) => {
    expect(await sandbox.evaluate(code, inputs)).toEqual(expected);
  });
});

describe('failures', () => {
  it('an endless loop stops at the deadline: CodeTimeout', async () => {
    const started = Date.now();
    expect(await failureOf('while (true) {}', {}, { timeoutMs: 200 })).toEqual({ type: CodeFailureType.Timeout, message: 'the code did not finish within 200 ms' });
    expect(Date.now() - started).toBeLessThan(3000);
    await stillWorks();
  });

  it('a catastrophic regular expression is interrupted inside the regex engine: CodeTimeout', async () => {
    expect((await failureOf('return /(a+)+$/.test("a".repeat(40) + "b")', {}, { timeoutMs: 200 })).type).toBe(CodeFailureType.Timeout);
    await stillWorks();
  });

  it('promise jobs that never end count against the deadline: CodeTimeout', async () => {
    expect((await failureOf('(async () => { while (true) await null })(); return 1', {}, { timeoutMs: 200 })).type).toBe(CodeFailureType.Timeout);
    await stillWorks();
  });

  it.each([
    ['many small objects', 'const a = []; while (true) a.push({ n: a.length, s: "item" + a.length });'],
    ['growing arrays', 'const a = []; while (true) a.push(new Array(10000).fill(1));'],
    ['typed arrays', 'const a = []; while (true) a.push(new Uint8Array(1 << 20));'],
    ['one huge string', 'return "x".repeat(1 << 28).length'],
    ['a map', 'const m = new Map(); for (let i = 0; ; i++) m.set(i, "v" + i);'],
  ])('a memory bomb (%s) hits the memory limit: CodeMemoryLimit', async (_name, code) => {
    expect(await failureOf(code, {}, { timeoutMs: 5000, memoryMb: 16 })).toEqual({ type: CodeFailureType.MemoryLimit, message: 'the code used more than its 16 MB of memory' });
    await stillWorks();
  });

  it('memoryMb is a real budget: 24 MB of buffers fit in 32 MB and not in 16 MB', async () => {
    const code = 'const a = []; for (let i = 0; i < 24; i++) a.push(new Uint8Array(1 << 20)); return a.length';
    expect(await sandbox.evaluate(code, {}, { memoryMb: 32 })).toBe(24);
    expect((await failureOf(code, {}, { memoryMb: 16 })).type).toBe(CodeFailureType.MemoryLimit);
    expect([memoryStep(1), memoryStep(17), memoryStep(32), memoryStep(50), memoryStep(1000)]).toEqual([16, 32, 32, 64, 64]);
  });

  it('a thrown error fails with its name, message and line: CodeError', async () => {
    expect(await failureOf('const a = 1;\nthrow new Error("inquiry has no country")')).toEqual({ type: CodeFailureType.Error, message: 'Error: inquiry has no country (line 2)' });
    expect(await failureOf('return inputs.missing.field')).toEqual({ type: CodeFailureType.Error, message: "TypeError: cannot read property 'field' of undefined (line 1)" });
    expect(await failureOf('throw 42')).toEqual({ type: CodeFailureType.Error, message: 'threw 42' });
    expect(await failureOf('throw { code: "E1" }')).toEqual({ type: CodeFailureType.Error, message: 'threw {"code":"E1"}' });
    expect(await failureOf('return Promise.reject(new RangeError("nope"))')).toEqual({ type: CodeFailureType.Error, message: 'the returned promise was rejected: RangeError: nope (line 1)' });
    expect((await failureOf('return new Promise(() => {})')).message).toMatch(/returned a promise that never settles/);
    // A SyntaxError thrown while running is the code's error, not a syntax error in it.
    expect(await failureOf('return JSON.parse("{oops")')).toMatchObject({ type: CodeFailureType.Error, message: expect.stringMatching(/^SyntaxError: /) });
  });

  it('code that does not parse: CodeSyntaxError with the line', async () => {
    expect(await failureOf('const a = 1;\nreturn a +')).toEqual({ type: CodeFailureType.SyntaxError, message: "SyntaxError: unexpected token in expression: '}' (line 3)" });
    expect((await failureOf('export default function (inputs) { return 1 }')).type).toBe(CodeFailureType.SyntaxError);
  });

  it.each([
    ['return () => 1', 'the result is a function'],
    ['return { handler() {}, a: 1 }', 'the value at key "handler" is a function'],
    ['return { id: 10n }', 'the value at key "id" is a BigInt (convert it to a string or a number)'],
    ['return Symbol("s")', 'the result is a symbol'],
    ['return NaN', 'the result is NaN, which JSON cannot hold'],
    ['return { ratio: 1 / 0 }', 'the value at key "ratio" is Infinity, which JSON cannot hold'],
    ['const o = {}; o.self = o; return o', 'it contains a circular reference'],
  ])('a result that is not JSON (%s): CodeResultNotJson', async (code, reason) => {
    expect(await failureOf(code)).toEqual({ type: CodeFailureType.ResultNotJson, message: `the result is not JSON: ${reason}` });
  });

  it('a result larger than 256 KB as JSON: CodeOutputTooLarge (counted in UTF-8 bytes)', async () => {
    expect(await sandbox.evaluate('return "x".repeat(200 * 1024).length')).toBe(200 * 1024);
    expect(await failureOf('return "x".repeat(300 * 1024)')).toEqual({ type: CodeFailureType.OutputTooLarge, message: `the result is ${300 * 1024 + 2} characters as JSON; the limit is ${CODE_LIMITS.maxOutputBytes} bytes` });
    // 200 Ki characters of "é" are 400 KiB of UTF-8.
    expect(await failureOf('return "é".repeat(200 * 1024)')).toEqual({ type: CodeFailureType.OutputTooLarge, message: `the result is ${400 * 1024 + 2} bytes as JSON; the limit is ${CODE_LIMITS.maxOutputBytes} bytes` });
  });
});

describe('containment', () => {
  it('finds no host: no process, require, module loading, timers, console, fetch or WebAssembly', async () => {
    expect(await failureOf('return this.constructor.constructor("return process")()')).toEqual({ type: CodeFailureType.Error, message: "ReferenceError: 'process' is not defined (line 1)" });
    expect(await sandbox.evaluate('return [typeof globalThis.require, typeof module, typeof process, typeof setTimeout, typeof console, typeof fetch, typeof WebAssembly, typeof std, typeof os]')).toEqual(Array(9).fill('undefined'));
    expect(await failureOf('return import("fs")')).toEqual({ type: CodeFailureType.Error, message: "the returned promise was rejected: ReferenceError: could not load module 'fs'" });
    expect((await failureOf('return Function("return require")()("fs")')).message).toMatch(/'require' is not defined/);
    const globals = (await sandbox.evaluate('return Object.getOwnPropertyNames(globalThis)')) as string[];
    const hostNames = ['process', 'require', 'module', 'exports', 'Buffer', 'global', 'console', 'setTimeout', 'setInterval', 'queueMicrotask', 'fetch', 'WebAssembly', 'std', 'os'];
    expect(globals.filter((g) => hostNames.includes(g))).toEqual([]);
    expect(globals).toContain('JSON');
  });

  it('nothing one call does is seen by the next: prototypes, globals, replaced built-ins', async () => {
    await sandbox.evaluate('Object.prototype.polluted = "yes"; Array.prototype.map = () => "hijacked"; globalThis.leftover = 1; JSON.stringify = () => "forged"; return 1');
    expect(await sandbox.evaluate('return [({}).polluted ?? null, [1, 2].map((x) => x * 2), typeof leftover]')).toEqual([null, [2, 4], 'undefined']);
    // Replacing JSON inside the call cannot forge its own output either.
    expect(await sandbox.evaluate('JSON.stringify = () => "\\"forged\\""; JSON.parse = () => 0; return { real: true }')).toEqual({ real: true });
  });

  it('inputs are a copy: changing them inside changes nothing outside', async () => {
    const inputs = { list: [1, 2] };
    expect(await sandbox.evaluate('inputs.list.push(3); return inputs.list.length', inputs)).toBe(3);
    expect(inputs).toEqual({ list: [1, 2] });
  });

  it('deep recursion is a catchable stack overflow inside the sandbox, not a crash', async () => {
    expect(await failureOf('function down(n) { return down(n + 1) + 1 } return down(0)')).toEqual({ type: CodeFailureType.Error, message: 'InternalError: stack overflow (line 1)' });
    expect(await sandbox.evaluate('function down(n) { return down(n + 1) } try { down(0) } catch (e) { return String(e) }')).toBe('InternalError: stack overflow');
    await stillWorks();
  });

  it('a value nested too deeply for the host stack fails cleanly and the sandbox reloads', async () => {
    const failure = await failureOf('let o = {}; let c = o; for (let i = 0; i < 300000; i++) { c.a = {}; c = c.a } return o', {}, { timeoutMs: 5000 });
    expect(failure.type).toBe(CodeFailureType.Error);
    expect(failure.message).toMatch(/stack overflow/);
    await stillWorks();
  });

  it('huge strings are bounded by memory or by the engine\'s string length, never by the host', async () => {
    expect(await failureOf('let s = "x"; while (true) { s += s; s.charCodeAt(s.length - 1) }', {}, { memoryMb: 16 })).toEqual({ type: CodeFailureType.MemoryLimit, message: 'the code used more than its 16 MB of memory' });
    expect((await failureOf('return "x".padEnd(1e9).length', {}, { memoryMb: 16 })).type).toBe(CodeFailureType.MemoryLimit);
    // Concatenation alone builds a rope that stops at QuickJS's maximum string length.
    expect(await failureOf('let s = "x"; while (true) s += s;')).toEqual({ type: CodeFailureType.Error, message: 'InternalError: string too long (line 1)' });
    expect(await failureOf('return "x".repeat(2 ** 31)')).toEqual({ type: CodeFailureType.Error, message: 'RangeError: invalid repeat count (line 1)' });
    await stillWorks();
  });

  it('keeps answering correctly after a long mixed series of failures', async () => {
    const outcomes: string[] = [];
    const series = ['while(true){}', 'const a=[]; while(true) a.push(new Uint8Array(1<<20))', 'throw new Error("x")', 'return (', 'return () => 1', 'return inputs.n'];
    for (const code of series) {
      try {
        outcomes.push(JSON.stringify(await sandbox.evaluate(code, { n: 7 }, { timeoutMs: 100, memoryMb: 16 })));
      } catch (err) {
        outcomes.push((err as CodeFailure).type);
      }
    }
    expect(outcomes).toEqual(['CodeTimeout', 'CodeMemoryLimit', 'CodeError', 'CodeSyntaxError', 'CodeResultNotJson', '7']);
  });
});
