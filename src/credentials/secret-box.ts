/**
 * Encryption of credential secrets at rest: AES-256-GCM with a random
 * 96-bit nonce per write, the credential's id and kind bound in as
 * additional authenticated data (a ciphertext copied onto another row, or
 * relabelled as another kind, fails to open), and a short fingerprint of
 * the key stored beside it, so a wrong CREDENTIALS_KEY is reported as that
 * rather than as corrupt data.
 *
 * Stored form: `v1.<key fingerprint>.<base64url(nonce | ciphertext | tag)>`.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export class SecretBoxError extends Error {}

export class SecretBox {
  /** Names the key without revealing it: the first 8 hex digits of its SHA-256. */
  readonly fingerprint: string;

  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new SecretBoxError(`an AES-256 key is 32 bytes, got ${key.length}`);
    this.fingerprint = createHash('sha256').update(key).digest('hex').slice(0, 8);
  }

  seal(plaintext: string, associated: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    cipher.setAAD(Buffer.from(associated, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${VERSION}.${this.fingerprint}.${Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64url')}`;
  }

  open(sealed: string, associated: string): string {
    const [version, fingerprint, payload, ...rest] = sealed.split('.');
    if (version !== VERSION || !fingerprint || !payload || rest.length > 0) throw new SecretBoxError('the stored secret is not in a known format');
    if (fingerprint !== this.fingerprint) {
      throw new SecretBoxError(`the secret was encrypted with another key (fingerprint ${fingerprint}; CREDENTIALS_KEY has ${this.fingerprint})`);
    }
    const bytes = Buffer.from(payload, 'base64url');
    if (bytes.length < NONCE_BYTES + TAG_BYTES) throw new SecretBoxError('the stored secret is truncated');
    const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(0, NONCE_BYTES));
    decipher.setAAD(Buffer.from(associated, 'utf8'));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(bytes.subarray(NONCE_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretBoxError('the stored secret failed authentication (altered, or moved from another credential)');
    }
  }
}

/** A 32-byte key from 64 hex digits or from base64 (standard or url-safe). */
export function parseKey(raw: string, name = 'CREDENTIALS_KEY'): Buffer {
  const text = raw.trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) {
    const bytes = Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64');
    if (bytes.length === 32) return bytes;
  }
  throw new SecretBoxError(`${name} must be 32 bytes as 64 hex digits or as base64 (e.g. \`openssl rand -hex 32\`)`);
}
