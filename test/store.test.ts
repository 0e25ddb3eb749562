/**
 * The store on both databases it runs on: embedded PGlite (npm start's
 * default) and the real PostgreSQL server. Same migrations, same SQL.
 */
import type { Db } from '../src/store/db';
import { MIGRATIONS, migrate } from '../src/store/migrations';
import { WorkflowStore } from '../src/store/workflow-store';
import { DATABASE_BACKENDS } from './support/backends';

const definition = { language: 1 as const, trigger: { type: 'api' as const }, steps: [{ id: 'done', type: 'end' as const, outcome: 'succeeded' as const }] };


describe.each(DATABASE_BACKENDS)('%s', (_name, open) => {
  let db: Db;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ db, cleanup } = await open());
  });
  afterAll(async () => cleanup());

  it('applies every migration once, and again is a no-op', async () => {
    await migrate(db);
    await migrate(db);
    const { rows } = await db.query<{ id: number }>('SELECT id FROM schema_migrations ORDER BY id');
    expect(rows.map((r) => Number(r.id))).toEqual(MIGRATIONS.map((m) => m.id));
  });

  it('publishes numbered, immutable versions and tracks the live one', async () => {
    const store = new WorkflowStore(db);
    const created = await store.create({ name: 'Flow', draft: definition });
    expect(created.id).toMatch(/^wfl_/);
    expect((await store.publish(created.id, definition)).version).toBe(1);
    const v2 = await store.publish(created.id, { ...definition, steps: [{ ...definition.steps[0], reason: 'v2' }] } as never);
    expect(v2.version).toBe(2);
    expect((await store.get(created.id))?.liveVersion).toBe(2);
    expect((await store.version(created.id, 1))?.definition).toEqual(definition);
    expect((await store.liveVersion(created.id))?.version).toBe(2);
    expect((await store.versions(created.id)).map((v) => v.version)).toEqual([2, 1]);
  });

  it('rolls a failed transaction back completely', async () => {
    const store = new WorkflowStore(db);
    const before = (await store.list()).length;
    await expect(
      db.transaction(async (tx) => {
        await tx.query(`INSERT INTO workflows (id, name, draft) VALUES ('wfl_rollback', 'x', '{}')`);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect((await store.list()).length).toBe(before);
    await expect(store.publish('wfl_missing', definition)).rejects.toThrow('no workflow wfl_missing');
  });
});
