/**
 * Evaluate Code on worker threads (src/sandbox/code-pool.ts): the deadline
 * holds even inside a long native operation QuickJS cannot interrupt, the
 * failure types are those the action documents, a terminated thread is
 * replaced, and calls beyond the pool's size wait their turn.
 */
import { CodeWorkerPool } from '../src/sandbox/code-pool';
import { CodeFailure, CodeFailureType } from '../src/sandbox/errors';

const BIGINT = 'return (3n ** 660000n).toString().length';

let pool: CodeWorkerPool;
beforeAll(async () => {
  pool = new CodeWorkerPool({ size: 2 });
  // Start both threads, so timings below are of the code, not of a thread booting.
  await Promise.all([pool.evaluate('return 1'), pool.evaluate('return 2')]);
});
afterAll(async () => {
  await pool?.dispose();
});

async function failureOf(promise: Promise<unknown>): Promise<CodeFailure> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof CodeFailure) return err;
    throw err;
  }
  throw new Error('expected the code to fail');
}

describe('Evaluate Code on worker threads', () => {
  it('returns the code\'s result as JSON, with its inputs', async () => {
    expect(await pool.evaluate('return { sum: inputs.a + inputs.b, list: [1, "x", null] }', { a: 2, b: 3 })).toEqual({ sum: 5, list: [1, 'x', null] });
  });

  it('fails a long native BigInt operation as a timeout near its 100 ms deadline, not after it finishes', async () => {
    const started = performance.now();
    const failure = await failureOf(pool.evaluate(BIGINT, {}, { timeoutMs: 100 }));
    const elapsed = performance.now() - started;
    expect(failure.type).toBe(CodeFailureType.Timeout);
    expect(failure.message).toBe('the code did not finish within 100 ms');
    // The same code in-thread ran 4.9 s in the review; generous for a loaded 2-core machine.
    expect(elapsed).toBeLessThan(1500);
    expect(elapsed).toBeGreaterThanOrEqual(100);
  });

  it('replaces a terminated thread: the next calls work', async () => {
    expect((await failureOf(pool.evaluate('while (true) {}', {}, { timeoutMs: 200 }))).type).toBe(CodeFailureType.Timeout);
    expect((await failureOf(pool.evaluate(BIGINT, {}, { timeoutMs: 50 }))).type).toBe(CodeFailureType.Timeout);
    expect(await Promise.all([pool.evaluate('return "a"'), pool.evaluate('return "b"'), pool.evaluate('return "c"')])).toEqual(['a', 'b', 'c']);
    expect(pool.threads).toBeLessThanOrEqual(2);
  });

  it('keeps the failure types: syntax, error, memory, not JSON, too large', async () => {
    expect((await failureOf(pool.evaluate('return (', {}))).type).toBe(CodeFailureType.SyntaxError);
    expect((await failureOf(pool.evaluate('throw new TypeError("nope")', {}))).message).toBe('TypeError: nope (line 1)');
    expect((await failureOf(pool.evaluate('const a = []; for (;;) a.push("x".repeat(1e6) + a.length)', {}, { memoryMb: 16, timeoutMs: 5000 }))).type).toBe(CodeFailureType.MemoryLimit);
    expect((await failureOf(pool.evaluate('return () => 1', {}))).type).toBe(CodeFailureType.ResultNotJson);
    expect((await failureOf(pool.evaluate('return "x".repeat(300000)', {}, { maxOutputBytes: 1000 }))).type).toBe(CodeFailureType.OutputTooLarge);
  });

  it('runs calls beyond its size in turn, each with its own deadline from when its code starts', async () => {
    const spins = [1, 2, 3].map(() => failureOf(pool.evaluate('while (true) {}', {}, { timeoutMs: 300 })));
    const quick = pool.evaluate('return inputs.n * 2', { n: 21 });
    const failures = await Promise.all(spins);
    expect(failures.map((f) => f.type)).toEqual([CodeFailureType.Timeout, CodeFailureType.Timeout, CodeFailureType.Timeout]);
    expect(await quick).toBe(42);
  });

  it('fails the calls in flight when closed, and starts fresh threads for later calls', async () => {
    const spinning = pool.evaluate('while (true) {}', {}, { timeoutMs: 5000 });
    await new Promise((r) => setTimeout(r, 100));
    await pool.dispose();
    await expect(spinning).rejects.toThrow('the code worker pool was closed');
    expect(pool.threads).toBe(0);
    expect(await pool.evaluate('return 3')).toBe(3);
  });
});
