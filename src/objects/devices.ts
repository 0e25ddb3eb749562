/**
 * Devices: a fingerprint and IP seen with inquiries, which an analyst or a
 * workflow can trust. Trusting a trusted device (or distrusting an
 * untrusted one) changes nothing and emits nothing.
 */
import type { Queryable } from '../store/db';
import { newObjectId } from './ids';
import type { CreateDeviceInput, UpdateDeviceInput } from './inputs';
import { lockObject, readObject, recordChange, type Change } from './object-rows';
import { checkReference, insertRow, NOW, updateRow, type ColumnValues } from './object-writes';
import type { Device } from './records';

export async function createDevice(tx: Queryable, input: CreateDeviceInput): Promise<Change<Device>> {
  if (input.accountId) await checkReference(tx, input.accountId, '/accountId', ['account']);
  if (input.inquiryId) await checkReference(tx, input.inquiryId, '/inquiryId', ['inquiry']);
  const id = newObjectId('device');
  await insertRow(tx, 'device', {
    id,
    fingerprint: input.fingerprint,
    ip: input.ip ?? null,
    account_id: input.accountId ?? null,
    inquiry_id: input.inquiryId ?? null,
    tags: input.tags,
  });
  const device = (await readObject(tx, 'device', id))!;
  return { object: device, events: [await recordChange(tx, device, 'created')] };
}

export async function updateDevice(tx: Queryable, id: string, input: UpdateDeviceInput): Promise<Change<Device>> {
  const { object } = await lockObject(tx, 'device', id);
  const set: ColumnValues = {};
  const changed: string[] = [];
  if (input.ip !== undefined && input.ip !== object.ip) {
    set.ip = input.ip;
    changed.push('ip');
  }
  if (input.accountId !== undefined && input.accountId !== object.accountId) {
    if (input.accountId) await checkReference(tx, input.accountId, '/accountId', ['account']);
    set.account_id = input.accountId;
    changed.push('accountId');
  }
  if (input.inquiryId !== undefined && input.inquiryId !== object.inquiryId) {
    if (input.inquiryId) await checkReference(tx, input.inquiryId, '/inquiryId', ['inquiry']);
    set.inquiry_id = input.inquiryId;
    changed.push('inquiryId');
  }
  if (changed.length === 0) return { object, events: [] };
  await updateRow(tx, 'device', id, set);
  const after = (await readObject(tx, 'device', id))!;
  return { object: after, events: [await recordChange(tx, after, 'updated', { changed })] };
}

export async function setDeviceTrust(tx: Queryable, id: string, trusted: boolean): Promise<Change<Device>> {
  const { object } = await lockObject(tx, 'device', id);
  if (object.trusted === trusted) return { object, events: [] };
  await updateRow(tx, 'device', id, { trusted, trusted_at: trusted ? NOW : null });
  const after = (await readObject(tx, 'device', id))!;
  return { object: after, events: [await recordChange(tx, after, trusted ? 'trusted' : 'untrusted')] };
}
