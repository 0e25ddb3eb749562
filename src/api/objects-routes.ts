/**
 * /v1 object routes: for inquiries, accounts, cases, reports, lists and
 * devices, create / read / list with filters / update fields, the status
 * transitions as `POST /v1/<collection>/:id/<verb>`, tags on any object,
 * list items, and redaction. Each write is one transaction holding the
 * change and its event; a rejected request writes neither.
 */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import {
  COLLECTION,
  createAccount,
  createAccountInput,
  createCase,
  createCaseInput,
  createDevice,
  createDeviceInput,
  createInquiry,
  createInquiryInput,
  createList,
  createListInput,
  createReport,
  createReportInput,
  addListItem,
  changeTag,
  findObjects,
  FLOWS,
  IllegalTransitionError,
  InvalidReferenceError,
  InvalidValueError,
  LIST_QUERIES,
  listItemInput,
  listItems,
  markCasePending,
  moveStatus,
  objectTypeOf,
  ObjectError,
  ObjectNotFoundError,
  ObjectRedactedError,
  readAnyObject,
  readObject,
  redactInput,
  redactObject,
  removeListItem,
  reopenCase,
  reportErrored,
  reportErrorInput,
  reportReady,
  reportReadyInput,
  resolveCase,
  resolveCaseInput,
  setDeviceTrust,
  tagSchema,
  typeOfCollection,
  updateAccount,
  updateAccountInput,
  updateCase,
  updateCaseInput,
  updateDevice,
  updateDeviceInput,
  updateInquiry,
  updateInquiryInput,
  updateList,
  updateListInput,
  updateReport,
  updateReportInput,
  type Change,
  type ObjectType,
  type StatusfulType,
} from '../objects';
import type { Db, Queryable } from '../store/db';
import { ApiError, notFound, parseOr400 } from './errors';
import { STRICT_ROUTING } from './strict-routing';

export interface ObjectRoutesDeps {
  db: Db;
}

/** Transitions without their own input take no body (an empty object is fine). */
const noBody = z.strictObject({});

/** Object errors as API errors: 404, 409 with from/to, 400 with the path. */
function toApiError(err: unknown): unknown {
  if (!(err instanceof ObjectError)) return err;
  if (err instanceof ObjectNotFoundError) return notFound(err.objectType, err.objectId);
  if (err instanceof IllegalTransitionError) {
    return new ApiError(409, 'illegal_transition', err.message, [
      { path: '/status', message: `${err.from} -> ${err.to} is not allowed (from ${err.from}: ${err.allowed.join(', ') || 'none'})`, code: `${err.from}->${err.to}` },
    ]);
  }
  if (err instanceof ObjectRedactedError) return new ApiError(409, 'object_redacted', err.message);
  if (err instanceof InvalidReferenceError || err instanceof InvalidValueError) {
    return new ApiError(400, 'invalid_request', 'request body is invalid', [{ path: err.path, message: err.message }]);
  }
  return err;
}

const idParam = (req: Request): string => String(req.params.id);

async function changeTagOf(tx: Queryable, type: ObjectType, id: string, tag: string, operation: 'add' | 'remove'): Promise<Change> {
  if (objectTypeOf(id) !== type) throw new ObjectNotFoundError(type, id);
  return changeTag(tx, id, tag, operation);
}

export function objectRoutes(deps: ObjectRoutesDeps): Router {
  const router = Router(STRICT_ROUTING);

  async function write<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    try {
      return await deps.db.transaction(fn);
    } catch (err) {
      throw toApiError(err);
    }
  }

  const send = (res: Response, status: number, change: Change) => res.status(status).json(change.object);

  /** Create, read, list and update for one type. */
  function resource<K extends ObjectType>(
    type: K,
    ops: {
      createSchema: z.ZodType;
      create: (tx: Queryable, body: never) => Promise<Change>;
      updateSchema: z.ZodType;
      update: (tx: Queryable, id: string, body: never) => Promise<Change>;
    },
  ): void {
    const collection = COLLECTION[type];
    router.post(`/${collection}`, async (req, res) => {
      const body = parseOr400(ops.createSchema, req.body, 'request body');
      send(res, 201, await write((tx) => ops.create(tx, body as never)));
    });
    router.get(`/${collection}`, async (req, res) => {
      const query = parseOr400(LIST_QUERIES[type], req.query, 'query string');
      const page = await findObjects(deps.db, type, query as never);
      res.json({ [collection]: page.items, ...(page.nextBefore ? { nextBefore: page.nextBefore } : {}) });
    });
    router.get(`/${collection}/:id`, async (req, res) => {
      const object = await readObject(deps.db, type, idParam(req));
      if (!object) throw notFound(type, idParam(req));
      res.json(object);
    });
    router.patch(`/${collection}/:id`, async (req, res) => {
      const body = parseOr400(ops.updateSchema, req.body, 'request body');
      send(res, 200, await write((tx) => ops.update(tx, idParam(req), body as never)));
    });
  }

  /** `POST /v1/<collection>/:id/<verb>` for every verb of the type's flow that takes no body. */
  function plainVerbs(type: StatusfulType, except: string[] = []): void {
    for (const [verb, to] of Object.entries(FLOWS[type].verbs)) {
      if (except.includes(verb)) continue;
      router.post(`/${COLLECTION[type]}/:id/${verb}`, async (req, res) => {
        parseOr400(noBody, req.body ?? {}, 'request body');
        send(res, 200, await write((tx) => moveStatus(tx, type, idParam(req), to as never)));
      });
    }
  }

  resource('inquiry', { createSchema: createInquiryInput, create: createInquiry, updateSchema: updateInquiryInput, update: updateInquiry });
  plainVerbs('inquiry');

  resource('account', { createSchema: createAccountInput, create: createAccount, updateSchema: updateAccountInput, update: updateAccount });
  plainVerbs('account');

  resource('case', { createSchema: createCaseInput, create: createCase, updateSchema: updateCaseInput, update: updateCase });
  router.post('/cases/:id/mark-pending', async (req, res) => {
    parseOr400(noBody, req.body ?? {}, 'request body');
    send(res, 200, await write((tx) => markCasePending(tx, idParam(req))));
  });
  router.post('/cases/:id/open', async (req, res) => {
    parseOr400(noBody, req.body ?? {}, 'request body');
    send(res, 200, await write((tx) => reopenCase(tx, idParam(req))));
  });
  router.post('/cases/:id/resolve', async (req, res) => {
    const body = parseOr400(resolveCaseInput, req.body ?? {}, 'request body');
    send(res, 200, await write((tx) => resolveCase(tx, idParam(req), body)));
  });

  resource('report', { createSchema: createReportInput, create: createReport, updateSchema: updateReportInput, update: updateReport });
  router.post('/reports/:id/ready', async (req, res) => {
    const body = parseOr400(reportReadyInput, req.body ?? {}, 'request body');
    send(res, 200, await write((tx) => reportReady(tx, idParam(req), body)));
  });
  router.post('/reports/:id/error', async (req, res) => {
    const body = parseOr400(reportErrorInput, req.body ?? {}, 'request body');
    send(res, 200, await write((tx) => reportErrored(tx, idParam(req), body)));
  });

  resource('list', { createSchema: createListInput, create: createList, updateSchema: updateListInput, update: updateList });
  router.get('/lists/:id/items', async (req, res) => {
    const query = parseOr400(z.strictObject({ limit: z.coerce.number().int().min(1).max(1000).default(100), after: z.string().max(1000).optional() }), req.query, 'query string');
    try {
      res.json({ items: await listItems(deps.db, idParam(req), query) });
    } catch (err) {
      throw toApiError(err);
    }
  });
  router.post('/lists/:id/items', async (req, res) => {
    const body = parseOr400(listItemInput, req.body, 'request body');
    const change = await write((tx) => addListItem(tx, idParam(req), body.value));
    res.status(change.changed ? 201 : 200).json({ listId: change.object.id, value: change.value, added: change.changed, list: change.object });
  });
  router.delete('/lists/:id/items/:value', async (req, res) => {
    const change = await write((tx) => removeListItem(tx, idParam(req), String(req.params.value)));
    if (!change.changed) throw notFound(`item on list ${idParam(req)}`, String(req.params.value));
    res.json({ listId: change.object.id, value: change.value, removed: true, list: change.object });
  });

  resource('device', { createSchema: createDeviceInput, create: createDevice, updateSchema: updateDeviceInput, update: updateDevice });
  for (const [verb, trusted] of [['trust', true], ['untrust', false]] as const) {
    router.post(`/devices/:id/${verb}`, async (req, res) => {
      parseOr400(noBody, req.body ?? {}, 'request body');
      send(res, 200, await write((tx) => setDeviceTrust(tx, idParam(req), trusted)));
    });
  }

  for (const type of ['inquiry', 'account'] as const) {
    router.post(`/${COLLECTION[type]}/:id/redact`, async (req, res) => {
      const body = parseOr400(redactInput, req.body ?? {}, 'request body');
      const id = idParam(req);
      const redaction = await write(async (tx) => {
        if (objectTypeOf(id) !== type) throw new ObjectNotFoundError(type, id);
        return redactObject(tx, id, body.fields);
      });
      res.json({ redacted: redaction.changes.map((c) => c.object.id), fields: redaction.fields, object: redaction.changes[0].object });
    });
  }

  /** Tags on any object; the id must be of the collection's type. */
  router.post('/:collection/:id/tags', async (req, res, next) => {
    const type = typeOfCollection(String(req.params.collection));
    if (!type) return next();
    const body = parseOr400(z.strictObject({ tag: tagSchema }), req.body, 'request body');
    send(res, 200, await write((tx) => changeTagOf(tx, type, idParam(req), body.tag, 'add')));
  });
  router.delete('/:collection/:id/tags/:tag', async (req, res, next) => {
    const type = typeOfCollection(String(req.params.collection));
    if (!type) return next();
    send(res, 200, await write((tx) => changeTagOf(tx, type, idParam(req), String(req.params.tag), 'remove')));
  });

  /** Any object by id, whatever its type (what `load_object` returns). */
  router.get('/objects/:id', async (req, res) => {
    const object = await readAnyObject(deps.db, idParam(req));
    if (!object) throw notFound('object', idParam(req));
    res.json(object);
  });

  return router;
}
