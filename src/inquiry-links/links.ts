/**
 * Inquiry links: single-use, expiring URLs to the hosted page where an
 * applicant fills in their details and so completes their inquiry.
 *
 * A link's token is the HMAC-SHA256 of the link's id under a key only the
 * service holds (derived from CREDENTIALS_KEY), so it is as unguessable as
 * 32 random bytes, yet a retried send can compute the same token again and
 * re-send the same link instead of minting a second one. The database keeps
 * only the SHA-256 of the token: reading the table opens no link.
 *
 * Opening a link (the page) needs only the hash, not the key; submitting
 * writes the fields, moves the inquiry to `completed` with its events, and
 * marks the link used, in one transaction.
 */
import { createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { ulid } from 'ulid';
import { lockObject, moveInquiry, updateInquiry, type PersonFieldsInput } from '../objects';
import type { Db, Queryable } from '../store/db';

export type LinkChannel = 'email' | 'sms';

/** A token is 32 bytes in base64url: 43 characters. Anything else is not worth a database lookup. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export interface InquiryLink {
  linkId: string;
  inquiryId: string;
  expiresAt: string;
}

/** The key links are signed with, derived so it differs from the key that encrypts credentials. */
export function inquiryLinkKeyFrom(credentialsKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', credentialsKey, Buffer.alloc(0), 'idflow inquiry-link tokens v1', 32));
}

export function tokenFor(key: Buffer, linkId: string): string {
  return createHmac('sha256', key).update(`inquiry-link:${linkId}`).digest('base64url');
}

function hashOf(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function linkUrl(publicBaseUrl: string, token: string): string {
  return `${publicBaseUrl.replace(/\/+$/, '')}/inquiry-links/${token}`;
}

/**
 * Write a new link for an inquiry that is still open (created or pending).
 * Runs inside the caller's transaction (the action's once-per-key record).
 */
export async function createInquiryLink(tx: Queryable, key: Buffer, input: { inquiryId: string; channel: LinkChannel; expiresInMs: number }): Promise<InquiryLink> {
  // Locked so a concurrent completion cannot slip between the check and the insert.
  const { object } = await lockObject(tx, 'inquiry', input.inquiryId);
  if (object.status !== 'created' && object.status !== 'pending') throw new InquiryNotOpenError(object.id, object.status);
  const linkId = `ilk_${ulid().toLowerCase()}`;
  const { rows } = await tx.query<{ expires_at: Date | string }>(
    `INSERT INTO inquiry_links (id, inquiry_id, token_hash, channel, expires_at)
     VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5::double precision / 1000)) RETURNING expires_at`,
    [linkId, object.id, hashOf(tokenFor(key, linkId)), input.channel, input.expiresInMs],
  );
  return { linkId, inquiryId: object.id, expiresAt: new Date(rows[0].expires_at).toISOString() };
}

/** Sending a link for an inquiry that is already decided would invite the applicant to a page that cannot work. */
export class InquiryNotOpenError extends Error {
  readonly failureType = 'InquiryNotOpen';
  constructor(
    readonly inquiryId: string,
    readonly status: string,
  ) {
    super(`inquiry ${inquiryId} is ${status}; links can only be sent while it is created or pending`);
  }
}

export type LinkState = { state: 'unknown' } | { state: 'gone'; why: 'expired' | 'used' } | { state: 'open'; link: InquiryLink };

interface LinkRow {
  id: string;
  inquiry_id: string;
  token_hash: string;
  expires_at: Date | string;
  used_at: Date | string | null;
  expired: boolean;
}

async function findRow(q: Queryable, token: string, lock: boolean): Promise<LinkRow | undefined> {
  if (!TOKEN_SHAPE.test(token)) return undefined;
  const hash = hashOf(token);
  const { rows } = await q.query<LinkRow>(
    `SELECT id, inquiry_id, token_hash, expires_at, used_at, expires_at <= now() AS expired
       FROM inquiry_links WHERE token_hash = $1${lock ? ' FOR UPDATE' : ''}`,
    [hash],
  );
  const row = rows[0];
  // The index finds the row by hash; comparing in constant time as well costs nothing and leaks nothing.
  if (!row || !timingSafeEqual(Buffer.from(row.token_hash, 'hex'), Buffer.from(hash, 'hex'))) return undefined;
  return row;
}

function stateOf(row: LinkRow | undefined): LinkState {
  if (!row) return { state: 'unknown' };
  // Used is said before expired: a used link is finished, whatever its date.
  if (row.used_at) return { state: 'gone', why: 'used' };
  if (row.expired) return { state: 'gone', why: 'expired' };
  return { state: 'open', link: { linkId: row.id, inquiryId: row.inquiry_id, expiresAt: new Date(row.expires_at).toISOString() } };
}

export async function lookUpLink(q: Queryable, token: string): Promise<LinkState> {
  return stateOf(await findRow(q, token, false));
}

/**
 * The applicant's submission: in one transaction, lock the link (a second
 * submit waits, then finds it used), write the fields, move the inquiry to
 * completed (through pending when it is still created) and mark the link
 * used. Every event of it commits with it, or none does.
 */
export async function submitInquiryLink(db: Db, token: string, fields: PersonFieldsInput): Promise<LinkState> {
  return db.transaction(async (tx) => {
    const state = stateOf(await findRow(tx, token, true));
    if (state.state !== 'open') return state;
    const { inquiryId } = state.link;
    await updateInquiry(tx, inquiryId, { fields });
    const { object } = await lockObject(tx, 'inquiry', inquiryId);
    if (object.status === 'created') await moveInquiry(tx, inquiryId, 'pending');
    // Any other status than pending here throws IllegalTransitionError: the inquiry moved on without this link.
    await moveInquiry(tx, inquiryId, 'completed');
    await tx.query('UPDATE inquiry_links SET used_at = now() WHERE id = $1', [state.link.linkId]);
    return state;
  });
}
