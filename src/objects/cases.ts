/**
 * Cases: manual review items, linked to the objects they are about. A case
 * is resolved once, with a resolution (approved / declined) that workflows
 * waiting on `case.resolved` read from the event's data.
 */
import type { Queryable } from '../store/db';
import { newObjectId } from './ids';
import type { CreateCaseInput, ResolveCaseInput, UpdateCaseInput } from './inputs';
import { moveStatus } from './lifecycle';
import { lockObject, readObject, recordChange, type Change } from './object-rows';
import { checkReference, insertRow, NOW, updateRow, type ColumnValues } from './object-writes';
import type { Case } from './records';

async function checkLinks(tx: Queryable, links: string[], path: string): Promise<void> {
  for (const [i, id] of links.entries()) await checkReference(tx, id, `${path}/${i}`);
}

export async function createCase(tx: Queryable, input: CreateCaseInput): Promise<Change<Case>> {
  await checkLinks(tx, input.links, '/links');
  const id = newObjectId('case');
  await insertRow(tx, 'case', {
    id,
    title: input.title,
    assignee: input.assignee ?? null,
    priority: input.priority,
    links: input.links,
    tags: input.tags,
  });
  const created = (await readObject(tx, 'case', id))!;
  return { object: created, events: [await recordChange(tx, created, 'created')] };
}

export async function updateCase(tx: Queryable, id: string, input: UpdateCaseInput): Promise<Change<Case>> {
  const { object } = await lockObject(tx, 'case', id);
  const set: ColumnValues = {};
  const changed: string[] = [];
  if (input.title !== undefined && input.title !== object.title) {
    set.title = input.title;
    changed.push('title');
  }
  if (input.assignee !== undefined && input.assignee !== object.assignee) {
    set.assignee = input.assignee;
    changed.push('assignee');
  }
  if (input.priority !== undefined && input.priority !== object.priority) {
    set.priority = input.priority;
    changed.push('priority');
  }
  if (input.links !== undefined && JSON.stringify(input.links) !== JSON.stringify(object.links)) {
    await checkLinks(tx, input.links, '/links');
    set.links = input.links;
    changed.push('links');
  }
  if (changed.length === 0) return { object, events: [] };
  await updateRow(tx, 'case', id, set);
  const after = (await readObject(tx, 'case', id))!;
  return { object: after, events: [await recordChange(tx, after, 'updated', { changed })] };
}

export function markCasePending(tx: Queryable, id: string): Promise<Change<Case>> {
  return moveStatus(tx, 'case', id, 'pending');
}

export function reopenCase(tx: Queryable, id: string): Promise<Change<Case>> {
  return moveStatus(tx, 'case', id, 'open');
}

export function resolveCase(tx: Queryable, id: string, input: ResolveCaseInput): Promise<Change<Case>> {
  return moveStatus(tx, 'case', id, 'resolved', {
    set: { resolution: input.resolution, resolved_at: NOW },
    data: { resolution: input.resolution, ...(input.note ? { note: input.note } : {}) },
  });
}
