/**
 * API keys: `idw_<random>`, shown once when made, stored as their SHA-256
 * with a name, a display prefix and scopes. A revoked key stops working on
 * the next request (every request looks the key up; nothing is cached).
 */
import { ulid } from 'ulid';
import type { Queryable } from '../store/db';
import type { Scope } from './scopes';
import { randomToken, sha256Hex } from './tokens';

export const API_KEY_PREFIX = 'idw_';

export interface ApiKeyRecord {
  id: string;
  name: string;
  /** The key's first characters, e.g. "idw_Xy3k"; enough to tell keys apart, too little to use. */
  prefix: string;
  scopes: Scope[];
  createdBy: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

type Row = Record<string, unknown>;
const iso = (v: unknown): string | null => (v === null || v === undefined ? null : new Date(v as string).toISOString());

const present = (r: Row): ApiKeyRecord => ({
  id: String(r.id),
  name: String(r.name),
  prefix: String(r.prefix),
  scopes: r.scopes as Scope[],
  createdBy: (r.created_by as string | null) ?? null,
  createdAt: iso(r.created_at)!,
  lastUsedAt: iso(r.last_used_at),
  revokedAt: iso(r.revoked_at),
});

export class ApiKeyStore {
  constructor(private readonly db: Queryable) {}

  /** Makes a key; the plaintext `key` is returned here and nowhere else, ever. */
  async create(input: { name: string; scopes: readonly Scope[]; createdBy?: string }): Promise<ApiKeyRecord & { key: string }> {
    const key = `${API_KEY_PREFIX}${randomToken(32)}`;
    const { rows } = await this.db.query(
      `INSERT INTO api_keys (id, name, prefix, key_hash, scopes, created_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
      [`key_${ulid().toLowerCase()}`, input.name, key.slice(0, API_KEY_PREFIX.length + 4), sha256Hex(key), [...new Set(input.scopes)], input.createdBy ?? null],
    );
    return { ...present(rows[0]), key };
  }

  async list(options: { includeRevoked?: boolean } = {}): Promise<ApiKeyRecord[]> {
    const { rows } = await this.db.query(`SELECT * FROM api_keys ${options.includeRevoked ? '' : 'WHERE revoked_at IS NULL'} ORDER BY created_at, id`);
    return rows.map(present);
  }

  async get(id: string): Promise<ApiKeyRecord | undefined> {
    const { rows } = await this.db.query('SELECT * FROM api_keys WHERE id = $1', [id]);
    return rows[0] ? present(rows[0]) : undefined;
  }

  /** Revokes a live key; undefined when there is no such key, the record unchanged when it was revoked already. */
  async revoke(id: string): Promise<ApiKeyRecord | undefined> {
    const { rows } = await this.db.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING *', [id]);
    return rows[0] ? present(rows[0]) : this.get(id);
  }

  /** The live key the plaintext belongs to, or undefined (unknown, malformed or revoked). */
  async authenticate(key: string): Promise<ApiKeyRecord | undefined> {
    if (!key.startsWith(API_KEY_PREFIX) || key.length > 200) return undefined;
    const { rows } = await this.db.query('SELECT * FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL', [sha256Hex(key)]);
    if (!rows[0]) return undefined;
    // At most one write a minute per key: "last used" is for people, not an access log.
    void this.db
      .query(`UPDATE api_keys SET last_used_at = now() WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`, [rows[0].id])
      .catch(() => undefined);
    return present(rows[0]);
  }
}
