/**
 * Secrets of the embedded default (`npm start` with nothing configured): made
 * once, kept in the data folder with mode 0600, and read back on every start,
 * so restarts keep what was encrypted or signed with them.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The path and hex content of `<dataDir>/<name>`, made with 32 random bytes when missing. */
export function devSecret(dataDir: string, name: string): { file: string; value: string } {
  const file = join(dataDir, name);
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    // 'wx': never overwrite a secret another process wrote a moment ago.
    try {
      writeFileSync(file, randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return { file, value: readFileSync(file, 'utf8').trim() };
}
