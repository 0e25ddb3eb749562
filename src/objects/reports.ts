/**
 * Reports: a check run on data (watchlist, PEP, email risk...). Created
 * pending; the provider's result makes it ready (and, with any match, also
 * emits `report/<type>.matched`) or errored. Events are typed by report
 * type, `report/watchlist.ready`, so a workflow can trigger on one kind.
 */
import type { Queryable } from '../store/db';
import { newObjectId } from './ids';
import type { CreateReportInput, ReportErrorInput, ReportReadyInput, UpdateReportInput } from './inputs';
import { moveStatus } from './lifecycle';
import { lockObject, readObject, recordChange, type Change } from './object-rows';
import { checkReference, insertRow, NOW, updateRow } from './object-writes';
import type { Report } from './records';

export async function createReport(tx: Queryable, input: CreateReportInput): Promise<Change<Report>> {
  if (input.objectId) await checkReference(tx, input.objectId, '/objectId');
  const id = newObjectId('report');
  await insertRow(tx, 'report', { id, type: input.type, object_id: input.objectId ?? null, tags: input.tags });
  const report = (await readObject(tx, 'report', id))!;
  return { object: report, events: [await recordChange(tx, report, 'created')] };
}

export async function updateReport(tx: Queryable, id: string, input: UpdateReportInput): Promise<Change<Report>> {
  const { object } = await lockObject(tx, 'report', id);
  const details = { ...object.details, ...input.details };
  if (JSON.stringify(details) === JSON.stringify(object.details)) return { object, events: [] };
  await updateRow(tx, 'report', id, { details: JSON.stringify(details) });
  const after = (await readObject(tx, 'report', id))!;
  return { object: after, events: [await recordChange(tx, after, 'updated', { changed: ['details'] })] };
}

export async function reportReady(tx: Queryable, id: string, input: ReportReadyInput): Promise<Change<Report>> {
  const hasMatch = input.matches.length > 0;
  // Details noted while the check ran (PATCH) stay; the result's own details win on a clash.
  const { object } = await lockObject(tx, 'report', id);
  const ready = await moveStatus(tx, 'report', id, 'ready', {
    set: { has_match: hasMatch, matches: JSON.stringify(input.matches), details: JSON.stringify({ ...object.details, ...input.details }), completed_at: NOW },
    data: { hasMatch, matchCount: input.matches.length },
  });
  if (!hasMatch) return ready;
  // Two events: workflows that care about every result listen to .ready, those that only act on hits to .matched.
  const matched = await recordChange(tx, ready.object, 'matched', { hasMatch, matchCount: input.matches.length });
  return { object: ready.object, events: [...ready.events, matched] };
}

export function reportErrored(tx: Queryable, id: string, input: ReportErrorInput): Promise<Change<Report>> {
  return moveStatus(tx, 'report', id, 'errored', {
    set: { error: input.error, completed_at: NOW },
    data: { error: input.error },
  });
}
