/**
 * The keys that encrypt Temporal payloads. PAYLOAD_KEYS lists them as
 * `id:base64key,id:base64key`; the FIRST key is the newest and encrypts,
 * every listed key decrypts (a payload names its key id), so a key is
 * rotated by putting a new one in front and dropping the old one only
 * when no history still needs it. Without PAYLOAD_KEYS only the embedded
 * dev default may run: one key made once under DATA_DIR, like the
 * credentials key.
 */
import { createHash } from 'node:crypto';
import { devSecret } from '../dev-secret';

export const PAYLOAD_KEY_FILE = 'payload-key';

export interface PayloadKey {
  /** Written into each encrypted payload's metadata; letters, digits, `.`, `_`, `-`. */
  id: string;
  /** 32 bytes (AES-256). */
  key: Buffer;
}

export class PayloadKeysError extends Error {}

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Parse `id:base64key[,id:base64key...]`; throws a PayloadKeysError naming the entry at fault. */
export function parsePayloadKeys(raw: string): PayloadKey[] {
  const entries = raw.split(',').map((e) => e.trim()).filter(Boolean);
  if (entries.length === 0) throw new PayloadKeysError('expected at least one `id:base64key` entry');
  const seen = new Set<string>();
  return entries.map((entry, index) => {
    const colon = entry.indexOf(':');
    if (colon < 0) throw new PayloadKeysError(`entry ${index + 1} is not \`id:base64key\``);
    const id = entry.slice(0, colon);
    const encoded = entry.slice(colon + 1);
    if (!KEY_ID.test(id)) throw new PayloadKeysError(`entry ${index + 1}: key id "${id}" must be 1-64 letters, digits, '.', '_' or '-'`);
    if (seen.has(id)) throw new PayloadKeysError(`key id "${id}" is listed twice`);
    seen.add(id);
    const key = Buffer.from(encoded, 'base64');
    // Buffer.from ignores stray characters, so check the round trip as well as the length.
    if (key.length !== 32 || key.toString('base64').replace(/=+$/, '') !== encoded.replace(/=+$/, '')) {
      throw new PayloadKeysError(`key "${id}" must be 32 bytes in base64 (make one with \`openssl rand -base64 32\`)`);
    }
    return { id, key };
  });
}

/**
 * The configured keys, or the embedded dev default (made once in
 * `<dataDir>/payload-key`, id `local-<fingerprint>`).
 */
export function loadPayloadKeys(options: { configured?: PayloadKey[]; dataDir: string; log?: (line: string) => void }): PayloadKey[] {
  if (options.configured && options.configured.length > 0) return options.configured;
  const { file, value } = devSecret(options.dataDir, PAYLOAD_KEY_FILE);
  const key = Buffer.from(value, 'hex');
  if (key.length !== 32) throw new PayloadKeysError(`${file} must hold 32 bytes in hex`);
  options.log?.(`payloads: Temporal history is encrypted with the dev key in ${file} (set PAYLOAD_KEYS to choose keys)`);
  return [{ id: `local-${createHash('sha256').update(key).digest('hex').slice(0, 8)}`, key }];
}
