/**
 * The two databases the service runs on, for tests that must hold on both:
 * embedded PGlite (npm start's default) and the real PostgreSQL server (a
 * schema of the test's own, dropped afterwards).
 */
import { ulid } from 'ulid';
import { connectPostgres, openPglite, type Db } from '../../src/store/db';
import { TEST_DATABASE_URL } from './harness';

export type OpenBackend = () => Promise<{ db: Db; cleanup: () => Promise<void> }>;

export const DATABASE_BACKENDS: [string, OpenBackend][] = [
  [
    'PGlite',
    async () => {
      const db = await openPglite();
      return { db, cleanup: () => db.close() };
    },
  ],
  [
    'PostgreSQL',
    async () => {
      const schema = `t_${ulid().toLowerCase()}`;
      const db = await connectPostgres({ url: TEST_DATABASE_URL, schema, max: 2 });
      return {
        db,
        cleanup: async () => {
          await db.query(`DROP SCHEMA "${schema}" CASCADE`);
          await db.close();
        },
      };
    },
  ],
];
