/**
 * Where the credentials encryption key comes from. CREDENTIALS_KEY (32
 * bytes, hex or base64) always wins. Without it, only the embedded dev
 * default may run: a key is made once and kept in DATA_DIR beside the data
 * it protects. Production (DATABASE_URL set and NODE_ENV=production)
 * refuses to start without one, so a misconfigured deployment never
 * invents a key its other processes do not share.
 */
import { devSecret } from '../dev-secret';
import { parseKey } from './secret-box';

export const CREDENTIALS_KEY_FILE = 'credentials-key';

export class MissingCredentialsKeyError extends Error {}

export function isDevMode(env: NodeJS.ProcessEnv): boolean {
  return !env.DATABASE_URL || env.NODE_ENV !== 'production';
}

export function loadCredentialsKey(options: { env?: NodeJS.ProcessEnv; dataDir: string; log?: (line: string) => void }): Buffer {
  const env = options.env ?? process.env;
  if (env.CREDENTIALS_KEY) return parseKey(env.CREDENTIALS_KEY);
  if (!isDevMode(env)) {
    throw new MissingCredentialsKeyError(
      'CREDENTIALS_KEY is not set: outside dev mode (DATABASE_URL set and NODE_ENV=production) the key that encrypts credentials must be given, ' +
        'the same one to every API and worker process (make one with `openssl rand -hex 32`)',
    );
  }
  // A lost key loses every credential: devSecret never overwrites one.
  const { file, value } = devSecret(options.dataDir, CREDENTIALS_KEY_FILE);
  options.log?.(`credentials: secrets are encrypted with the dev key in ${file} (set CREDENTIALS_KEY to choose one)`);
  if (env.DATABASE_URL) options.log?.('credentials: DATABASE_URL is set: every process sharing that database needs this same key; set CREDENTIALS_KEY');
  return parseKey(value, file);
}
