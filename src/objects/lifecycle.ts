/**
 * Moving an object from one status to another, checked against its table in
 * transitions.ts. The check runs on the locked row, so two concurrent moves
 * (an analyst's approve and a workflow's decline) cannot both succeed.
 */
import type { Queryable } from '../store/db';
import { IllegalTransitionError } from './errors';
import { lockObject, readObject, recordChange, type Change } from './object-rows';
import { updateRow, type ColumnValues } from './object-writes';
import type { ObjectOf } from './records';
import { ACCOUNT_FLOW, CASE_FLOW, canMove, INQUIRY_FLOW, REPORT_FLOW, type StatusFlow } from './transitions';

export type StatusfulType = 'inquiry' | 'account' | 'case' | 'report';

export const FLOWS: { [K in StatusfulType]: StatusFlow<ObjectOf[K]['status']> } = {
  inquiry: INQUIRY_FLOW,
  account: ACCOUNT_FLOW,
  case: CASE_FLOW,
  report: REPORT_FLOW,
};

export interface Move {
  /** Other columns the move sets (a case's resolution, a report's matches). */
  set?: ColumnValues;
  /** Extra event data beside from/to. */
  data?: Record<string, unknown>;
}

export async function moveStatus<K extends StatusfulType>(tx: Queryable, type: K, id: string, to: ObjectOf[K]['status'], move: Move = {}): Promise<Change<ObjectOf[K]>> {
  const { object } = await lockObject(tx, type, id);
  const flow = FLOWS[type] as StatusFlow<string>;
  const from: string = object.status;
  if (!canMove(flow, from, to)) throw new IllegalTransitionError(type, id, from, to, flow.next[from] ?? []);
  await updateRow(tx, type, id, { status: to, ...move.set });
  const after = (await readObject(tx, type, id))!;
  const event = await recordChange(tx, after, flow.event[to], { from, to, ...move.data });
  return { object: after, events: [event] };
}
