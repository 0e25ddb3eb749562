/**
 * The identity objects a run touched, for the `IdwObjectIds` search
 * attribute: an operator finds every run that read or changed an inquiry
 * with `IdwObjectIds = 'inq_...'` in the Temporal Web UI.
 *
 * Ids are taken from a trigger's payload and from each step's result, only
 * under keys that name ids (`id`, `ids`, `links`, `...Id`, `..._id`,
 * `...Ids`), and only when they have the shape of our object ids (a type's
 * prefix, `_`, lowercase letters and digits; see src/objects/ids.ts, which
 * a test keeps in step with this). A word such as `case_approved` in a
 * status field is therefore never taken for a case.
 */
import { upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { SearchAttributes } from './run-contract';

export const OBJECT_ID_PREFIXES = ['inq', 'act', 'case', 'rep', 'lst', 'dev'] as const;
const OBJECT_ID = new RegExp(`^(${OBJECT_ID_PREFIXES.join('|')})_[0-9a-z]{1,64}$`);
const ID_KEY = /^(id|ids|links|objectId|objectIds)$|(Id|_id|Ids|_ids)$/;

/** Bounds on what one search attribute value may hold (Temporal limits a value to 2 KB by default). */
export const MAX_OBJECT_IDS = 40;
const MAX_TOTAL_CHARS = 1_500;
const MAX_DEPTH = 8;
const MAX_NODES = 5_000;

/** Object ids under id-naming keys in a JSON value, in the order met, without repeats. */
export function objectIdsIn(value: unknown): string[] {
  const found: string[] = [];
  const seen = new Set<string>();
  let nodes = 0;
  const take = (v: unknown): void => {
    if (typeof v === 'string' && OBJECT_ID.test(v) && !seen.has(v)) {
      seen.add(v);
      found.push(v);
    }
  };
  const walk = (v: unknown, depth: number): void => {
    if (++nodes > MAX_NODES || depth > MAX_DEPTH || v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) {
      for (const item of v) walk(item, depth + 1);
      return;
    }
    for (const [key, child] of Object.entries(v as Record<string, unknown>)) {
      if (ID_KEY.test(key)) {
        if (Array.isArray(child)) child.forEach(take);
        else take(child);
      }
      walk(child, depth + 1);
    }
  };
  walk(value, 0);
  return found;
}

/** The ids to keep for a value, within the attribute's bounds: what a run's start carries for its trigger. */
export function boundedObjectIds(value: unknown, ids: string[] = []): string[] {
  let chars = ids.reduce((n, id) => n + id.length, 0);
  const out = [...ids];
  for (const id of objectIdsIn(value)) {
    if (out.length >= MAX_OBJECT_IDS || chars + id.length > MAX_TOTAL_CHARS) break;
    if (out.includes(id)) continue;
    out.push(id);
    chars += id.length;
  }
  return out;
}

/**
 * The run's touched objects, kept in the search attribute. The start
 * already carries the trigger's (runStart), so a run upserts only for what
 * its steps add. Each call with
 * new ids upserts the attribute once; past the bounds, further ids are
 * dropped (the first ones a run touches are the ones it is about).
 */
export class TouchedObjects {
  private readonly ids: string[];

  constructor(private readonly enabled: boolean) {
    // After continue-as-new the execution starts with the attribute as it was.
    this.ids = enabled ? [...(workflowInfo().typedSearchAttributes.get(SearchAttributes.objectIds) ?? [])] : [];
  }

  touch(value: unknown): void {
    if (!this.enabled) return;
    const next = boundedObjectIds(value, this.ids);
    if (next.length === this.ids.length) return;
    this.ids.splice(0, this.ids.length, ...next);
    upsertSearchAttributes([{ key: SearchAttributes.objectIds, value: [...this.ids] }]);
  }
}
