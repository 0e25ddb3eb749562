/**
 * The input of every object change, as zod schemas: the REST bodies parse
 * with these, and the object actions build their params from the same
 * pieces, so an inquiry made by a workflow is checked like one made over HTTP.
 */
import { z } from 'zod';
import { ID_PREFIX, idPattern, OBJECT_TYPES, objectTypeOf, type ObjectType } from './ids';
import { ipSchema, LIST_KINDS } from './list-values';
import { PERSON_FIELDS, personFieldsInput } from './person-fields';
import { CASE_PRIORITIES, REPORT_TYPES } from './records';
import { CASE_RESOLUTIONS } from './transitions';

export const idOf = (type: ObjectType) => z.string().regex(idPattern(type), `must be a ${type} id (${ID_PREFIX[type]}_...)`);

/** An id of any object type. */
export const anyObjectId = z
  .string()
  .min(1)
  .max(100)
  .refine((id) => objectTypeOf(id) !== undefined, `must be an object id (${OBJECT_TYPES.join(', ')})`);

export const tagSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(100)
  .regex(/^[^\u0000-\u001f\u007f]*$/, 'must not contain control characters');

export const tagsSchema = z.array(tagSchema).max(50).transform((tags) => [...new Set(tags)]);

export const templateSchema = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,99}$/i, 'must be 1-100 letters, digits, _ . or -, starting with a letter or digit');

export const scoresSchema = z.record(
  z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'score names are snake_case'),
  z.number().finite().nullable(),
);

/** An update must change something: `{}` is a 400, not a silent no-op. */
const nonEmpty = <T extends z.ZodObject>(schema: T, names: string) =>
  schema.refine((body) => Object.values(body as Record<string, unknown>).some((v) => v !== undefined), { message: `give at least one of ${names}` });

export const createInquiryInput = z.strictObject({
  template: templateSchema,
  accountId: idOf('account').optional(),
  fields: personFieldsInput.default({}),
  scores: scoresSchema.default({}),
  tags: tagsSchema.default([]),
});
export type CreateInquiryInput = z.output<typeof createInquiryInput>;

export const updateInquiryInput = nonEmpty(
  z.strictObject({
    fields: personFieldsInput.optional(),
    scores: scoresSchema.optional(),
    accountId: idOf('account').nullable().optional(),
  }),
  'fields, scores, accountId',
);
export type UpdateInquiryInput = z.output<typeof updateInquiryInput>;

export const createAccountInput = z.strictObject({
  referenceId: z.string().trim().min(1).max(200).optional(),
  fields: personFieldsInput.default({}),
  tags: tagsSchema.default([]),
});
export type CreateAccountInput = z.output<typeof createAccountInput>;

export const updateAccountInput = nonEmpty(
  z.strictObject({
    referenceId: z.string().trim().min(1).max(200).nullable().optional(),
    fields: personFieldsInput.optional(),
  }),
  'referenceId, fields',
);
export type UpdateAccountInput = z.output<typeof updateAccountInput>;

export const casePrioritySchema = z.enum(CASE_PRIORITIES);
export const assigneeSchema = z.string().trim().min(1).max(200);
export const linksSchema = z.array(anyObjectId).max(50).transform((ids) => [...new Set(ids)]);

export const createCaseInput = z.strictObject({
  title: z.string().trim().max(300).default(''),
  assignee: assigneeSchema.optional(),
  priority: casePrioritySchema.default('normal'),
  links: linksSchema.default([]),
  tags: tagsSchema.default([]),
});
export type CreateCaseInput = z.output<typeof createCaseInput>;

export const updateCaseInput = nonEmpty(
  z.strictObject({
    title: z.string().trim().max(300).optional(),
    assignee: assigneeSchema.nullable().optional(),
    priority: casePrioritySchema.optional(),
    links: linksSchema.optional(),
  }),
  'title, assignee, priority, links',
);
export type UpdateCaseInput = z.output<typeof updateCaseInput>;

export const resolveCaseInput = z.strictObject({
  resolution: z.enum(CASE_RESOLUTIONS),
  note: z.string().max(5000).optional(),
});
export type ResolveCaseInput = z.output<typeof resolveCaseInput>;

export const reportTypeSchema = z.enum(REPORT_TYPES);
const detailsSchema = z.record(z.string(), z.unknown());

export const createReportInput = z.strictObject({
  type: reportTypeSchema,
  objectId: anyObjectId.optional(),
  tags: tagsSchema.default([]),
});
export type CreateReportInput = z.output<typeof createReportInput>;

export const updateReportInput = z.strictObject({ details: detailsSchema });
export type UpdateReportInput = z.output<typeof updateReportInput>;

export const reportReadyInput = z.strictObject({
  matches: z.array(z.record(z.string(), z.unknown())).max(500).default([]),
  details: detailsSchema.default({}),
});
export type ReportReadyInput = z.output<typeof reportReadyInput>;

export const reportErrorInput = z.strictObject({ error: z.string().trim().min(1).max(2000) });
export type ReportErrorInput = z.output<typeof reportErrorInput>;

export const listKindSchema = z.enum(LIST_KINDS);

export const createListInput = z.strictObject({
  name: z.string().trim().min(1).max(200),
  kind: listKindSchema,
  description: z.string().max(2000).default(''),
  tags: tagsSchema.default([]),
});
export type CreateListInput = z.output<typeof createListInput>;

export const updateListInput = nonEmpty(
  z.strictObject({
    name: z.string().trim().min(1).max(200).optional(),
    description: z.string().max(2000).optional(),
  }),
  'name, description',
);
export type UpdateListInput = z.output<typeof updateListInput>;

/** Checked against the list's kind when added (see list-values.ts). */
export const listItemInput = z.strictObject({ value: z.string().max(1000) });

export const createDeviceInput = z.strictObject({
  fingerprint: z.string().trim().min(1).max(500),
  ip: ipSchema.optional(),
  accountId: idOf('account').optional(),
  inquiryId: idOf('inquiry').optional(),
  tags: tagsSchema.default([]),
});
export type CreateDeviceInput = z.output<typeof createDeviceInput>;

export const updateDeviceInput = nonEmpty(
  z.strictObject({
    ip: ipSchema.nullable().optional(),
    accountId: idOf('account').nullable().optional(),
    inquiryId: idOf('inquiry').nullable().optional(),
  }),
  'ip, accountId, inquiryId',
);
export type UpdateDeviceInput = z.output<typeof updateDeviceInput>;

export const redactInput = z.strictObject({
  /** Which person fields to remove; all of them when absent. */
  fields: z.array(z.enum(PERSON_FIELDS)).min(1).max(PERSON_FIELDS.length).optional(),
});
export type RedactInput = z.output<typeof redactInput>;
