/**
 * Actions on the identity platform's own objects (approve / decline an
 * inquiry, create a case, tag, add to a list, trust a device, redact...).
 * Each changes the object store and emits its event in one transaction.
 *
 * Writing actions run through onceByKey: the change, its event and the
 * action's result commit together under the step's idempotency key (run id
 * + step id), so a retried attempt returns the first result instead of
 * creating a second case. Their outputs leave out person fields: the
 * result is kept in action_effects and in Temporal history, and redaction
 * must not have to chase copies there (read them with load_object).
 *
 * Failures retrying cannot fix (an unknown object, an illegal transition,
 * a redacted record) are non-retryable ApplicationFailures typed by
 * ObjectFailureType; anything else (the database briefly away) is retried.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import { FailureType, type ActionPolicy } from '../interpreter';
import {
  addListItem,
  anyObjectId,
  changeTag,
  checkLists,
  createCase,
  createCaseInput,
  createInquiry,
  createInquiryInput,
  IllegalTransitionError,
  idOf,
  moveInquiry,
  ObjectError,
  ObjectFailureType,
  ObjectNotFoundError,
  PERSON_FIELDS,
  readAnyObject,
  redactObject,
  setDeviceTrust,
  tagSchema,
  type AnyObject,
  type InquiryStatus,
} from '../objects';
import type { Db, Queryable } from '../store/db';
import { onceByKey } from '../store/idempotency';
import { defineAction, type ActionContext, type ActionDefinition } from './action-definition';
import type { ActionDeps } from './index';

const NON_RETRYABLE = [FailureType.InvalidParams, ...Object.values(ObjectFailureType)];

/** A short write to our own database: a local activity, a few quick retries for a database hiccup. */
export const OBJECT_WRITE_POLICY: ActionPolicy = {
  startToCloseTimeout: '10s',
  local: true,
  retry: { maximumAttempts: 5, initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '3s', nonRetryableErrorTypes: NON_RETRYABLE },
};

/** A read for a condition: the same, nothing to deduplicate. */
export const OBJECT_READ_POLICY: ActionPolicy = OBJECT_WRITE_POLICY;

/** Object errors become non-retryable failures with their stable type; others stay retryable. */
function asFailure(err: unknown): unknown {
  if (!(err instanceof ObjectError)) return err;
  const details = err instanceof IllegalTransitionError ? [{ objectId: err.objectId, from: err.from, to: err.to, allowed: err.allowed }] : undefined;
  return ApplicationFailure.create({ type: err.failureType, message: err.message, nonRetryable: true, details });
}

/** The object without a person's fields (see the module comment). */
export function withoutPersonFields(object: AnyObject): Record<string, unknown> {
  if (object.object !== 'inquiry' && object.object !== 'account') return { ...object };
  const { fields: _fields, ...rest } = object;
  return rest;
}

function writer(db: Db, name: string) {
  return async <T>(ctx: ActionContext, effect: (tx: Queryable) => Promise<T>): Promise<T> => {
    try {
      return await onceByKey(db, ctx.idempotencyKey, name, effect);
    } catch (err) {
      throw asFailure(err);
    }
  };
}

function inquiryDecision(db: Db, spec: { name: string; title: string; to: InquiryStatus; event: string }) {
  const once = writer(db, spec.name);
  return defineAction({
    name: spec.name,
    title: spec.title,
    description:
      `Move the inquiry to ${spec.to} (emits ${spec.event}). Output: the inquiry without its person fields ` +
      `({id, status: "${spec.to}", template, accountId, scores, tags, ...}). An illegal move fails with IllegalTransition, an unknown id with ObjectNotFound.`,
    params: z.strictObject({ inquiryId: idOf('inquiry') }),
    policy: OBJECT_WRITE_POLICY,
    run: (params, ctx) => once(ctx, async (tx) => withoutPersonFields((await moveInquiry(tx, params.inquiryId, spec.to)).object)),
  });
}

const checkListsParams = z.strictObject({
  /** One list id or several. */
  lists: z.union([idOf('list'), z.array(idOf('list')).min(1).max(20)]),
  /** One value to look up (null or empty: nothing to match). */
  value: z.string().max(1000).nullable().optional(),
  /** Several named values, e.g. {email: ..., phone: ...}; each match names its key. */
  values: z.record(z.string().min(1).max(100), z.string().max(1000).nullable()).optional(),
});

export function objectActions(deps: ActionDeps): ActionDefinition<never>[] {
  const { db } = deps;

  const approveInquiry = inquiryDecision(db, { name: 'approve_inquiry', title: 'Approve inquiry', to: 'approved', event: 'inquiry.approved' });
  const declineInquiry = inquiryDecision(db, { name: 'decline_inquiry', title: 'Decline inquiry', to: 'declined', event: 'inquiry.declined' });
  const markForReview = inquiryDecision(db, { name: 'mark_inquiry_for_review', title: 'Mark inquiry for review', to: 'needs_review', event: 'inquiry.marked-for-review' });

  const createInquiryOnce = writer(db, 'create_inquiry');
  const createInquiryAction = defineAction({
    name: 'create_inquiry',
    title: 'Create inquiry',
    description:
      'Create an inquiry from a template, optionally for an account, with fields, scores and tags (emits inquiry.created). ' +
      'Output: the inquiry without its person fields ({id, status: "created", template, accountId, ...}). Created once per step, however often retried.',
    params: createInquiryInput,
    policy: OBJECT_WRITE_POLICY,
    run: (params, ctx) => createInquiryOnce(ctx, async (tx) => withoutPersonFields((await createInquiry(tx, params)).object)),
  });

  const createCaseOnce = writer(db, 'create_case');
  const createCaseAction = defineAction({
    name: 'create_case',
    title: 'Create case',
    description:
      'Open a case for manual review, linked to objects (ids of any type), with an assignee, a priority (low, normal, high, urgent) and tags (emits case.created). ' +
      'Output: the case ({id, status: "open", links, assignee, priority, ...}). Created once per step, however often retried; a linked id that does not exist fails with InvalidObjectReference.',
    params: createCaseInput,
    policy: OBJECT_WRITE_POLICY,
    run: (params, ctx) => createCaseOnce(ctx, async (tx) => (await createCase(tx, params)).object),
  });

  const tagOnce = writer(db, 'tag_object');
  const tagObject = defineAction({
    name: 'tag_object',
    title: 'Tag object',
    description:
      'Add a tag to (or with operation "remove", take one off) any object: inquiry, account, case, report, list or device (emits <type>.tag-added / tag-removed when something changed). ' +
      'Output: {objectId, tag, operation, changed, tags}.',
    params: z.strictObject({ objectId: anyObjectId, tag: tagSchema, operation: z.enum(['add', 'remove']).default('add') }),
    policy: OBJECT_WRITE_POLICY,
    run: (params, ctx) =>
      tagOnce(ctx, async (tx) => {
        const change = await changeTag(tx, params.objectId, params.tag, params.operation);
        return { objectId: params.objectId, tag: params.tag, operation: params.operation, changed: change.events.length > 0, tags: change.object.tags };
      }),
  });

  const addItemOnce = writer(db, 'add_list_item');
  const addListItemAction = defineAction({
    name: 'add_list_item',
    title: 'Add item to list',
    description:
      "Add a value to a list, normalised for the list's kind (emails lowercased, phones without separators...; emits list.item-added when it was not there yet). " +
      'Output: {listId, value (as stored), added}. A value not of the list\'s kind fails with InvalidObjectValue.',
    params: z.strictObject({ listId: idOf('list'), value: z.string().max(1000) }),
    policy: OBJECT_WRITE_POLICY,
    run: (params, ctx) =>
      addItemOnce(ctx, async (tx) => {
        const change = await addListItem(tx, params.listId, params.value);
        return { listId: params.listId, value: change.value, added: change.changed };
      }),
  });

  const trustOnce = writer(db, 'trust_device');
  const trustDevice = defineAction({
    name: 'trust_device',
    title: 'Trust device',
    description: 'Mark a device as trusted (emits device.trusted unless it was trusted already). Output: the device ({id, trusted: true, trustedAt, fingerprint, ...}) plus changed.',
    params: z.strictObject({ deviceId: idOf('device') }),
    policy: OBJECT_WRITE_POLICY,
    run: (params, ctx) =>
      trustOnce(ctx, async (tx) => {
        const change = await setDeviceTrust(tx, params.deviceId, true);
        return { ...change.object, changed: change.events.length > 0 };
      }),
  });

  const redactOnce = writer(db, 'redact_object');
  const redactObjectAction = defineAction({
    name: 'redact_object',
    title: 'Redact object',
    description:
      'Delete personal data from an inquiry or an account: all person fields, or only those named in fields. Redacting an account redacts each of its inquiries too. ' +
      'The data is removed from the rows and from earlier event snapshots; emits inquiry.redacted / account.redacted. Output: {redacted: [ids], fields}.',
    params: z.strictObject({ objectId: anyObjectId, fields: z.array(z.enum(PERSON_FIELDS)).min(1).max(PERSON_FIELDS.length).optional() }),
    policy: OBJECT_WRITE_POLICY,
    run: (params, ctx) =>
      redactOnce(ctx, async (tx) => {
        const redaction = await redactObject(tx, params.objectId, params.fields);
        return { redacted: redaction.changes.map((c) => c.object.id), fields: redaction.fields };
      }),
  });

  const loadObject = defineAction({
    name: 'load_object',
    title: 'Load object',
    description:
      "Read any object's current state for the conditions after it: an inquiry's status, template, fields and scores, a case's status and resolution, an account's tags, a report's hasMatch and matches. " +
      'Output: the object exactly as GET /v1/objects/:id returns it. An unknown id fails with ObjectNotFound.',
    params: z.strictObject({ objectId: anyObjectId }),
    policy: OBJECT_READ_POLICY,
    async run(params) {
      const object = await readAnyObject(db, params.objectId);
      if (!object) throw asFailure(new ObjectNotFoundError('object', params.objectId));
      return object;
    },
  });

  const checkListsAction = defineAction({
    name: 'check_lists',
    title: 'Check lists',
    description:
      'Is this value (an email, phone, name, government id, IP, country) on any of these lists? Give value, or values as {name: value}; each is normalised by each list\'s kind before the lookup, and null values are skipped. ' +
      'Output: {matched, matches: [{listId, listName, kind, key, value}]}. An unknown list fails with ObjectNotFound.',
    params: checkListsParams,
    policy: OBJECT_READ_POLICY,
    async run(params) {
      // Checked here, not in the schema: refinements on the params object would stop the validator checking the static part of a step's params.
      const given = (params.value !== undefined ? 1 : 0) + (params.values !== undefined ? 1 : 0);
      if (given !== 1) {
        throw ApplicationFailure.create({ type: FailureType.InvalidParams, message: 'check_lists: give exactly one of value or values', nonRetryable: true });
      }
      const lists = typeof params.lists === 'string' ? [params.lists] : [...new Set(params.lists)];
      const keyed = params.values !== undefined;
      try {
        return await checkLists(db, lists, keyed ? params.values! : { value: params.value ?? null }, keyed);
      } catch (err) {
        throw asFailure(err);
      }
    },
  });

  return [
    approveInquiry,
    declineInquiry,
    markForReview,
    createInquiryAction,
    createCaseAction,
    tagObject,
    addListItemAction,
    trustDevice,
    redactObjectAction,
    loadObject,
    checkListsAction,
  ] as ActionDefinition<never>[];
}
