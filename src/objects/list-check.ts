/**
 * "Is this email / phone / name / id number / IP on list X?": the database
 * criterion conditions use, through the check_lists action. Each value is
 * normalised by each list's kind before the lookup, exactly as items were
 * when added.
 */
import type { Queryable } from '../store/db';
import { ObjectNotFoundError } from './errors';
import { normaliseListValue } from './list-values';
import type { List } from './records';

export interface ListMatch {
  listId: string;
  listName: string;
  kind: string;
  /** The value's name when several were checked at once (`values: {email: ...}`). */
  key: string | null;
  value: string;
}

export interface ListCheck {
  matched: boolean;
  matches: ListMatch[];
}

/** values: name -> value; a null or empty value has nothing to match and is skipped. */
export async function checkLists(q: Queryable, listIds: string[], values: Record<string, string | null>, keyed: boolean): Promise<ListCheck> {
  // Only what matching needs: the item count in a full list snapshot costs a scan of the list.
  const { rows } = await q.query<Pick<List, 'id' | 'name' | 'kind'>>('SELECT id, name, kind FROM lists WHERE id = ANY($1::text[])', [listIds]);
  const lists = new Map(rows.map((r) => [r.id, r]));
  const missing = listIds.find((id) => !lists.has(id));
  if (missing) throw new ObjectNotFoundError('list', missing);

  const probes: { list: Pick<List, 'id' | 'name' | 'kind'>; key: string | null; value: string }[] = [];
  for (const listId of listIds) {
    const list = lists.get(listId)!;
    for (const [key, raw] of Object.entries(values)) {
      if (raw === null || raw.trim() === '') continue;
      const normalised = normaliseListValue(list.kind, raw);
      // A value that is not even of the list's kind (a phone against an email list) is simply not on it.
      if (normalised.ok) probes.push({ list, key: keyed ? key : null, value: normalised.value });
    }
  }
  if (probes.length === 0) return { matched: false, matches: [] };
  const found = await q.query<{ list_id: string; value: string }>(
    `SELECT list_id, value FROM list_items WHERE (list_id, value) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
    [probes.map((p) => p.list.id), probes.map((p) => p.value)],
  );
  const hits = new Set(found.rows.map((r) => `${r.list_id}\u0000${r.value}`));
  const matches = probes
    .filter((p) => hits.has(`${p.list.id}\u0000${p.value}`))
    .map((p) => ({ listId: p.list.id, listName: p.list.name, kind: p.list.kind, key: p.key, value: p.value }));
  return { matched: matches.length > 0, matches };
}
