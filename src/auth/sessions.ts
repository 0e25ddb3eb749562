/**
 * Editor sessions: a random token in an HttpOnly cookie, stored as its
 * SHA-256 with the user and an expiry. The CSRF token is derived from the
 * session token, so it needs no storage and `GET /v1/auth/me` can hand it
 * out again after a page reload.
 */
import type { Queryable } from '../store/db';
import { randomToken, sha256Hex } from './tokens';
import type { UserRecord } from './users';
import type { Role } from './scopes';

export const SESSION_COOKIE = 'idw_session';
export const CSRF_COOKIE = 'idw_csrf';
export const CSRF_HEADER = 'x-csrf-token';
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

export const csrfTokenOf = (sessionToken: string): string => Buffer.from(sha256Hex(`csrf:${sessionToken}`), 'hex').toString('base64url');

export class SessionStore {
  constructor(private readonly db: Queryable) {}

  async create(userId: string): Promise<{ token: string; csrfToken: string; expiresAt: Date }> {
    const token = randomToken(32);
    const expiresAt = new Date(Date.now() + SESSION_TTL_MS);
    await this.db.query('INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3)', [sha256Hex(token), userId, expiresAt]);
    // Expired sessions are of no use to anyone; dropping them here keeps the table small without a sweeper.
    await this.db.query('DELETE FROM sessions WHERE user_id = $1 AND expires_at < now()', [userId]);
    return { token, csrfToken: csrfTokenOf(token), expiresAt };
  }

  /** The enabled user of a live session, or undefined. */
  async userOf(token: string): Promise<UserRecord | undefined> {
    if (token.length > 200) return undefined;
    const { rows } = await this.db.query<Record<string, unknown>>(
      `SELECT u.* FROM sessions s JOIN users u ON u.id = s.user_id
       WHERE s.token_hash = $1 AND s.expires_at > now() AND u.disabled_at IS NULL`,
      [sha256Hex(token)],
    );
    const r = rows[0];
    if (!r) return undefined;
    return { id: String(r.id), email: String(r.email), role: r.role as Role, disabledAt: null, createdAt: new Date(r.created_at as string).toISOString() };
  }

  async end(token: string): Promise<void> {
    await this.db.query('DELETE FROM sessions WHERE token_hash = $1', [sha256Hex(token)]);
  }
}
