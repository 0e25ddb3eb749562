/**
 * Exactly-once effects for actions whose target is our own database: the
 * effect and its result are written in one transaction keyed by the action's
 * idempotency key (run id + step id), so a retried attempt returns the first
 * result instead of, say, creating a second case.
 */
import type { Db, Queryable } from './db';

export async function onceByKey<T>(db: Db, key: string, action: string, effect: (tx: Queryable) => Promise<T>): Promise<T> {
  const done = await db.query<{ result: T }>('SELECT result FROM action_effects WHERE idempotency_key = $1', [key]);
  if (done.rows.length > 0) return done.rows[0].result;
  return db.transaction(async (tx) => {
    // Taken first, so two concurrent attempts cannot both act: the second waits, then conflicts.
    const claimed = await tx.query<{ idempotency_key: string }>(
      `INSERT INTO action_effects (idempotency_key, action, result) VALUES ($1, $2, 'null'::jsonb)
       ON CONFLICT (idempotency_key) DO NOTHING RETURNING idempotency_key`,
      [key, action],
    );
    if (claimed.rows.length === 0) {
      const again = await tx.query<{ result: T }>('SELECT result FROM action_effects WHERE idempotency_key = $1', [key]);
      return again.rows[0].result;
    }
    const result = await effect(tx);
    await tx.query('UPDATE action_effects SET result = $2 WHERE idempotency_key = $1', [key, JSON.stringify(result ?? null)]);
    return result;
  });
}
