/**
 * People who sign in to the editor: an e-mail, a role (admin, editor,
 * viewer) that decides their scopes, and a scrypt password hash. Disabling
 * a user ends their sessions at once.
 */
import { randomBytes } from 'node:crypto';
import { ulid } from 'ulid';
import { z } from 'zod';
import type { Queryable } from '../store/db';
import { burnPasswordCheck, hashPassword, verifyPassword } from './passwords';
import { roleSchema, type Role } from './scopes';

export const FIRST_ADMIN_EMAIL = 'admin@localhost';

/** `admin@localhost` is an address too: the first admin has one. */
export const userEmailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(320)
  .regex(/^[^\s@]+@[^\s@]+$/, 'must be an e-mail address');
export const passwordSchema = z.string().min(12, 'must be at least 12 characters').max(1000);

export const createUserInput = z.strictObject({ email: userEmailSchema, password: passwordSchema, role: roleSchema });
export type CreateUserInput = z.output<typeof createUserInput>;

export interface UserRecord {
  id: string;
  email: string;
  role: Role;
  disabledAt: string | null;
  createdAt: string;
}

type Row = Record<string, unknown>;
const iso = (v: unknown): string | null => (v === null || v === undefined ? null : new Date(v as string).toISOString());
const present = (r: Row): UserRecord => ({ id: String(r.id), email: String(r.email), role: r.role as Role, disabledAt: iso(r.disabled_at), createdAt: iso(r.created_at)! });

export class UserExistsError extends Error {}

export class UserStore {
  constructor(private readonly db: Queryable) {}

  async create(input: { email: string; password: string; role: Role }): Promise<UserRecord> {
    const passwordHash = await hashPassword(input.password);
    try {
      const { rows } = await this.db.query(`INSERT INTO users (id, email, role, password_hash) VALUES ($1, $2, $3, $4) RETURNING *`, [
        `usr_${ulid().toLowerCase()}`,
        input.email.trim().toLowerCase(),
        input.role,
        passwordHash,
      ]);
      return present(rows[0]);
    } catch (err) {
      if ((err as { code?: string }).code === '23505') throw new UserExistsError(`a user "${input.email}" already exists`);
      throw err;
    }
  }

  async list(): Promise<UserRecord[]> {
    const { rows } = await this.db.query('SELECT * FROM users ORDER BY created_at, id');
    return rows.map(present);
  }

  async get(id: string): Promise<UserRecord | undefined> {
    const { rows } = await this.db.query('SELECT * FROM users WHERE id = $1', [id]);
    return rows[0] ? present(rows[0]) : undefined;
  }

  /** Disables (and ends the sessions of) or enables a user; undefined when there is none. */
  async setDisabled(id: string, disabled: boolean): Promise<UserRecord | undefined> {
    const { rows } = await this.db.query(
      `UPDATE users SET disabled_at = CASE WHEN $2 THEN coalesce(disabled_at, now()) ELSE NULL END WHERE id = $1 RETURNING *`,
      [id, disabled],
    );
    if (disabled && rows[0]) await this.db.query('DELETE FROM sessions WHERE user_id = $1', [id]);
    return rows[0] ? present(rows[0]) : undefined;
  }

  /** The enabled user with this e-mail and password, or undefined; takes as long either way. */
  async checkPassword(email: string, password: string): Promise<UserRecord | undefined> {
    const { rows } = await this.db.query('SELECT * FROM users WHERE email = $1', [email.trim().toLowerCase()]);
    const row = rows[0];
    if (!row) {
      await burnPasswordCheck(password);
      return undefined;
    }
    const ok = await verifyPassword(password, String(row.password_hash));
    return ok && !row.disabled_at ? present(row) : undefined;
  }

  async count(): Promise<number> {
    const { rows } = await this.db.query<{ n: string }>('SELECT count(*) AS n FROM users');
    return Number(rows[0].n);
  }
}

/**
 * On a database without users, make `admin@localhost` with the given
 * password or a random one, and return the password (so it can be shown
 * once); undefined when users exist already.
 */
export async function ensureFirstAdmin(db: Queryable, options: { password?: string } = {}): Promise<{ email: string; password: string; generated: boolean } | undefined> {
  const users = new UserStore(db);
  if ((await users.count()) > 0) return undefined;
  if (options.password !== undefined && !passwordSchema.safeParse(options.password).success) throw new Error('ADMIN_PASSWORD must be at least 12 characters');
  const password = options.password ?? randomBytes(18).toString('base64url');
  try {
    await users.create({ email: FIRST_ADMIN_EMAIL, password, role: 'admin' });
  } catch (err) {
    // Another API process made it first.
    if (err instanceof UserExistsError) return undefined;
    throw err;
  }
  return { email: FIRST_ADMIN_EMAIL, password, generated: options.password === undefined };
}
