/** Summaries the benchmark reports: distributions of samples, and spreads of repeated figures. */

export interface Distribution {
  n: number;
  min: number;
  median: number;
  p99: number;
  max: number;
}

/** Nearest-rank p99; the median as usual. */
export function distribution(samples: number[]): Distribution {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
  // The median of an even count is the mean of the middle two.
  const median = s.length === 0 ? NaN : s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { n: s.length, min: s[0] ?? NaN, median, p99: at(0.99) ?? NaN, max: s[s.length - 1] ?? NaN };
}

/** One figure measured several times. */
export interface Spread {
  reps: number;
  min: number;
  median: number;
  max: number;
}

export function spread(values: number[]): Spread {
  const d = distribution(values);
  return { reps: d.n, min: d.min, median: d.median, max: d.max };
}

/** Run `work` for 0..count-1 with at most `concurrency` at once. */
export async function pool(count: number, concurrency: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(count, concurrency) }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
