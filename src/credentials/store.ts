/**
 * Credentials (connections): a kind, a name, and a secret kept encrypted in
 * the `credentials` table (see secret-box.ts). The API writes them; actions
 * read them through `resolve` inside their activity, so a secret never
 * reaches workflow history, run state or logs. Nothing here returns a
 * secret except `resolve`: records carry only the names of the secret's
 * fields that are set.
 */
import { ulid } from 'ulid';
import type { z } from 'zod';
import type { Queryable } from '../store/db';
import { CREDENTIAL_KINDS, CredentialError, type CredentialKind, type CredentialResolver, type CredentialSecret } from './kinds';
import { SecretBox, SecretBoxError } from './secret-box';

export const CREDENTIAL_ID_PATTERN = /^cred_[0-9a-z]{1,64}$/;

export interface CredentialRecord {
  id: string;
  kind: CredentialKind;
  name: string;
  /** Which top-level fields of the secret have a value (never the values). */
  secretFields: string[];
  createdAt: string;
  updatedAt: string;
}

/** The secret does not fit its kind's schema; `issues` carry paths within the secret. */
export class InvalidSecretError extends Error {
  constructor(
    readonly kind: CredentialKind,
    readonly issues: z.core.$ZodIssue[],
  ) {
    super(`the secret does not fit a ${kind} credential`);
  }
}

interface Row {
  id: string;
  kind: string;
  name: string;
  secret_ciphertext: string;
  secret_fields: string[];
  created_at: Date | string;
  updated_at: Date | string;
}

export function isCredentialKind(kind: string): kind is CredentialKind {
  return Object.prototype.hasOwnProperty.call(CREDENTIAL_KINDS, kind);
}

export class CredentialStore implements CredentialResolver {
  private readonly box: SecretBox;

  constructor(
    private readonly db: Queryable,
    key: Buffer,
  ) {
    this.box = new SecretBox(key);
  }

  /** The fingerprint of the key in use (safe to log). */
  get keyFingerprint(): string {
    return this.box.fingerprint;
  }

  async create(input: { kind: CredentialKind; name: string; secret: unknown }): Promise<CredentialRecord> {
    const secret = validateSecret(input.kind, input.secret);
    const id = `cred_${ulid().toLowerCase()}`;
    const { rows } = await this.db.query<Row>(
      `INSERT INTO credentials (id, kind, name, secret_ciphertext, secret_fields) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
      [id, input.kind, input.name, this.box.seal(JSON.stringify(secret), associated(id, input.kind)), fieldsOf(secret)],
    );
    return present(rows[0]);
  }

  async get(id: string): Promise<CredentialRecord | undefined> {
    const { rows } = await this.db.query<Row>('SELECT * FROM credentials WHERE id = $1', [id]);
    return rows[0] ? present(rows[0]) : undefined;
  }

  async list(options: { kind?: CredentialKind } = {}): Promise<CredentialRecord[]> {
    const { rows } = options.kind
      ? await this.db.query<Row>('SELECT * FROM credentials WHERE kind = $1 ORDER BY id', [options.kind])
      : await this.db.query<Row>('SELECT * FROM credentials ORDER BY id');
    return rows.map(present);
  }

  /** Replace the secret (checked against the credential's kind) and optionally the name; undefined when there is no such credential. */
  async update(id: string, change: { secret?: unknown; name?: string }): Promise<CredentialRecord | undefined> {
    const existing = await this.get(id);
    if (!existing) return undefined;
    let sealed: string | null = null;
    let fields: string[] | null = null;
    if (change.secret !== undefined) {
      const secret = validateSecret(existing.kind, change.secret);
      sealed = this.box.seal(JSON.stringify(secret), associated(id, existing.kind));
      fields = fieldsOf(secret);
    }
    const { rows } = await this.db.query<Row>(
      `UPDATE credentials SET
         name = COALESCE($2, name),
         secret_ciphertext = COALESCE($3, secret_ciphertext),
         secret_fields = COALESCE($4, secret_fields),
         updated_at = now()
       WHERE id = $1 RETURNING *`,
      [id, change.name ?? null, sealed, fields],
    );
    return rows[0] ? present(rows[0]) : undefined;
  }

  async delete(id: string): Promise<boolean> {
    const { rows } = await this.db.query<{ id: string }>('DELETE FROM credentials WHERE id = $1 RETURNING id', [id]);
    return rows.length > 0;
  }

  async resolve<K extends CredentialKind>(id: string, kind: K): Promise<CredentialSecret<K>> {
    if (!CREDENTIAL_ID_PATTERN.test(id)) throw new CredentialError(`"${id}" is not a credential id (cred_...)`);
    const { rows } = await this.db.query<Row>('SELECT * FROM credentials WHERE id = $1', [id]);
    const row = rows[0];
    if (!row) throw new CredentialError(`no credential "${id}"`);
    if (row.kind !== kind) throw new CredentialError(`credential "${id}" is of kind ${row.kind}; this step needs one of kind ${kind}`);
    let plaintext: string;
    try {
      plaintext = this.box.open(row.secret_ciphertext, associated(row.id, row.kind));
    } catch (err) {
      if (err instanceof SecretBoxError) throw new CredentialError(`credential "${id}" cannot be decrypted: ${err.message}`);
      throw err;
    }
    const parsed = CREDENTIAL_KINDS[kind].safeParse(JSON.parse(plaintext));
    if (!parsed.success) {
      // Only paths and zod's messages: the values stay out of the error.
      const where = parsed.error.issues.map((i) => `/${i.path.map(String).join('/')}: ${i.message}`).join('; ');
      throw new CredentialError(`credential "${id}" no longer fits the ${kind} schema (${where}); update its secret`);
    }
    return parsed.data as CredentialSecret<K>;
  }
}

function validateSecret(kind: CredentialKind, secret: unknown): Record<string, unknown> {
  const parsed = CREDENTIAL_KINDS[kind].safeParse(secret);
  if (!parsed.success) throw new InvalidSecretError(kind, parsed.error.issues);
  return parsed.data as Record<string, unknown>;
}

/** Bound into the ciphertext: a secret only opens as the credential and kind it was written for. */
function associated(id: string, kind: string): string {
  return `credential:${id}:${kind}`;
}

function fieldsOf(secret: Record<string, unknown>): string[] {
  return Object.keys(secret)
    .filter((k) => secret[k] !== undefined && secret[k] !== null && secret[k] !== '')
    .sort();
}

function present(row: Row): CredentialRecord {
  return {
    id: row.id,
    kind: row.kind as CredentialKind,
    name: row.name,
    secretFields: row.secret_fields,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}
