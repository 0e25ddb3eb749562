/**
 * Run Report: watchlist (sanctions), politically exposed person, adverse
 * media, email risk and phone risk checks. Each run creates a report object
 * (emits report/<type>.created), runs the check, stores the result
 * (has_match, matches with scores) and makes the report ready, which emits
 * report/<type>.ready and, with any match, report/<type>.matched; a check
 * that cannot succeed makes it errored (report/<type>.errored).
 *
 * Exactly once per step: creating the report and finishing it are each
 * written under the step's idempotency key (onceByKey), so a retried
 * attempt finds the report the first attempt made instead of making a
 * second, and a report is finished once. The check itself runs between the
 * two, outside any transaction, because an adverse media provider may take
 * seconds.
 *
 * The subject's fields come from `subject`, or when missing there from the
 * inquiry or account named by `objectId`. Reports keep what was found, not
 * the subject's values: they are not redacted with the person.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import { CREDENTIAL_FAILURE_TYPE, credentialForAction } from '../credentials/action-credentials';
import { FailureType, type ActionPolicy } from '../interpreter';
import { anyObjectId, createReport, idOf, ObjectError, ObjectFailureType, readAnyObject, readObject, reportErrored, reportReady, tagsSchema, type Report } from '../objects';
import {
  assessEmail,
  assessPhone,
  countryCode,
  DEFAULT_THRESHOLD,
  entityTypeSchema,
  isSubjectBirthdate,
  NameNormaliser,
  ScreeningError,
  ScreeningFailureType,
  searchAdverseMedia,
  watchlistSourceSchema,
  WatchlistScreener,
  type AdverseMediaProvider,
} from '../screening';
import type { Db } from '../store/db';
import { onceByKey } from '../store/idempotency';
import { defineAction, type ActionContext, type ActionDefinition } from './action-definition';
import type { ActionDeps } from './index';

export const RUN_REPORT_TYPES = ['watchlist', 'pep', 'adverse_media', 'email_risk', 'phone_risk'] as const;
export type RunReportType = (typeof RUN_REPORT_TYPES)[number];

const NON_RETRYABLE = [
  FailureType.InvalidParams,
  CREDENTIAL_FAILURE_TYPE,
  // An unknown list or objectId; a report finished by someone else (POST /v1/reports/:id/ready) while the check ran.
  ObjectFailureType.NotFound,
  ObjectFailureType.InvalidReference,
  ObjectFailureType.IllegalTransition,
  ...Object.values(ScreeningFailureType).filter((t) => t !== ScreeningFailureType.ProviderUnavailable),
];

/** Not local: an adverse media provider may take seconds, and a cold worker builds a list's index first. */
export const RUN_REPORT_POLICY: ActionPolicy = {
  startToCloseTimeout: '60s',
  retry: { maximumAttempts: 5, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes: NON_RETRYABLE },
};

export interface ReportActionDeps extends ActionDeps {
  /**
   * The adverse media provider. Unset: ADVERSE_MEDIA_URL and, for its
   * authentication, ADVERSE_MEDIA_CREDENTIAL (the id of an https credential).
   */
  adverseMedia?: { url: string; credentialId?: string; timeoutMs?: number };
}

const subjectText = (max: number) => z.string().max(max).nullable().optional();

const runReportParams = z.strictObject({
  type: z.enum(RUN_REPORT_TYPES),
  /** Liquid renders a missing field as "" and CEL gives null: both mean "not given". */
  subject: z
    .strictObject({
      name: subjectText(300),
      birthdate: subjectText(40),
      country: subjectText(100),
      email: subjectText(320),
      phone: subjectText(50),
    })
    .default({}),
  /** The inquiry or account (or any object) the report is about. */
  objectId: anyObjectId.optional(),
  /** Watchlist, PEP and adverse media: the lowest score that is a match (default 0.88). */
  threshold: z.number().min(0.5).max(1).optional(),
  /** The most matches kept (default 10). */
  limit: z.number().int().min(1).max(100).default(10),
  /** Email and phone risk: lists whose members are a risk signal. */
  lists: z.array(idOf('list')).max(20).optional(),
  /** Watchlist and PEP: only these sources (default all loaded). */
  sources: z.array(watchlistSourceSchema).min(1).max(2).optional(),
  /** Watchlist and PEP: only these kinds of entry (default all). */
  entityTypes: z.array(entityTypeSchema).min(1).max(5).optional(),
  /** Adverse media: an https credential for the provider (overrides the configured one). */
  credentialId: z.string().min(1).max(200).optional(),
  tags: tagsSchema.optional(),
});
type RunReportParams = z.output<typeof runReportParams>;

interface Subject {
  name?: string;
  birthdate?: string;
  country?: string;
  email?: string;
  phone?: string;
}

const NEEDS: Record<RunReportType, keyof Subject> = {
  watchlist: 'name',
  pep: 'name',
  adverse_media: 'name',
  email_risk: 'email',
  phone_risk: 'phone',
};

interface CheckResult {
  matches: Record<string, unknown>[];
  details: Record<string, unknown>;
}

export function reportActions(deps: ReportActionDeps): ActionDefinition<never>[] {
  const { db } = deps;
  const adverseMedia = deps.adverseMedia ?? (process.env.ADVERSE_MEDIA_URL ? { url: process.env.ADVERSE_MEDIA_URL, credentialId: process.env.ADVERSE_MEDIA_CREDENTIAL || undefined } : undefined);
  let normaliser: Promise<NameNormaliser> | undefined;

  async function check(params: RunReportParams, subject: Subject, ctx: ActionContext): Promise<CheckResult> {
    const used = { subjectFields: (Object.keys(subject) as (keyof Subject)[]).filter((k) => subject[k] !== undefined) };
    switch (params.type) {
      case 'watchlist':
      case 'pep': {
        const result = await WatchlistScreener.for(db).screen({
          name: subject.name!,
          birthdate: subject.birthdate,
          country: subject.country,
          list: params.type === 'pep' ? 'pep' : 'sanctions',
          threshold: params.threshold,
          limit: params.limit,
          sources: params.sources,
          entityTypes: params.entityTypes,
        });
        return {
          matches: result.matches as unknown as Record<string, unknown>[],
          details: { list: result.list, threshold: result.threshold, entriesScreened: result.entriesScreened, generation: result.generation, ...used },
        };
      }
      case 'email_risk': {
        const result = await assessEmail(db, subject.email!, params.lists ?? []);
        return { matches: result.matches, details: { ...result.details, ...used } };
      }
      case 'phone_risk': {
        const result = await assessPhone(db, subject.phone!, subject.country, params.lists ?? []);
        return { matches: result.matches, details: { ...result.details, ...used } };
      }
      case 'adverse_media': {
        if (!adverseMedia) {
          throw new ScreeningError(ScreeningFailureType.ProviderNotConfigured, 'adverse media reports need a provider: set ADVERSE_MEDIA_URL (and ADVERSE_MEDIA_CREDENTIAL for its authentication)');
        }
        const credentialId = params.credentialId ?? adverseMedia.credentialId;
        const auth: AdverseMediaProvider['auth'] = credentialId ? await credentialForAction(deps.credentials, credentialId, 'https') : undefined;
        normaliser ??= NameNormaliser.load();
        const result = await searchAdverseMedia(
          { url: adverseMedia.url, auth, credentialId, allowList: deps.network?.allowList, ca: deps.network?.ca, timeoutMs: adverseMedia.timeoutMs },
          { name: subject.name!, birthdate: subject.birthdate, country: subject.country },
          { normaliser: await normaliser, threshold: params.threshold ?? DEFAULT_THRESHOLD, limit: params.limit, signal: ctx.signal },
        );
        return { matches: result.matches, details: { ...result.details, ...used } };
      }
      default: {
        const unreachable: never = params.type;
        throw new Error(`unknown report type ${String(unreachable)}`);
      }
    }
  }

  const runReport = defineAction({
    name: 'run_report',
    title: 'Run report',
    description:
      'Run a check and keep its result as a report object: watchlist (sanctions lists), pep (politically exposed persons), adverse_media, email_risk or phone_risk. ' +
      'subject: {name, birthdate, country, email, phone}; fields not given are read from the inquiry or account in objectId. ' +
      'Emits report/<type>.created, then report/<type>.ready and, with any match, report/<type>.matched. ' +
      'Output: {reportId, status: "ready", hasMatch, matches: [{score, ...}]}. One report per step, however often retried. ' +
      'A missing subject field, an unloaded list or a provider refusing fail without retry (the report, if made, becomes errored); a provider briefly down is retried.',
    params: runReportParams,
    policy: RUN_REPORT_POLICY,
    // The one failure retrying may cure; the others are in the policy's non-retryable list.
    errorTypes: [ScreeningFailureType.ProviderUnavailable],
    async run(params, ctx) {
      try {
        const subject = checkSubject(params, await resolveSubject(db, params));
        const created = await onceByKey(db, `${ctx.idempotencyKey}:create`, 'run_report', async (tx) => (await createReport(tx, { type: params.type, objectId: params.objectId, tags: params.tags ?? [] })).object);
        const report = (await readObject(db, 'report', created.id)) ?? created;
        // An earlier attempt finished the report but did not get to return: return what it did.
        if (report.status !== 'pending') return output(report);
        let result: CheckResult;
        try {
          result = await check(params, subject, ctx);
        } catch (err) {
          // A failure another attempt may cure leaves the report pending for that attempt to finish. (Which attempt is
          // the last is the workflow's to know, not the activity's: when all fail, the report stays pending.)
          if (isFinal(err)) {
            const message = (err as Error).message || String(err);
            await onceByKey(db, `${ctx.idempotencyKey}:finish`, 'run_report', async (tx) => (await reportErrored(tx, report.id, { error: message.slice(0, 2000) })).object);
          }
          throw err;
        }
        const ready = await onceByKey(db, `${ctx.idempotencyKey}:finish`, 'run_report', async (tx) => (await reportReady(tx, report.id, result)).object);
        return output(ready);
      } catch (err) {
        throw asFailure(err);
      }
    },
  });

  return [runReport] as ActionDefinition<never>[];
}

function output(report: Report): { reportId: string; status: string; hasMatch: boolean | null; matches: Record<string, unknown>[] } {
  return { reportId: report.id, status: report.status, hasMatch: report.hasMatch, matches: report.matches };
}

const given = (value: string | null | undefined): string | undefined => (value === null || value === undefined || value.trim() === '' ? undefined : value.trim());

/** The subject as given, with what is missing taken from the inquiry or account the report is about. */
async function resolveSubject(db: Db, params: RunReportParams): Promise<Subject> {
  const s = params.subject;
  const subject: Subject = { name: given(s.name), birthdate: given(s.birthdate), country: given(s.country), email: given(s.email), phone: given(s.phone) };
  const missing = (Object.keys(subject) as (keyof Subject)[]).some((k) => subject[k] === undefined);
  if (!params.objectId || !missing) return subject;
  const object = await readAnyObject(db, params.objectId);
  if (!object || (object.object !== 'inquiry' && object.object !== 'account')) return subject;
  const f = object.fields;
  const name = [f.name_first, f.name_last].filter((p) => p).join(' ');
  subject.name ??= given(name);
  subject.birthdate ??= given(f.birthdate);
  subject.country ??= given(f.country ?? f.address?.country);
  subject.email ??= given(f.email);
  subject.phone ??= given(f.phone);
  return subject;
}

/**
 * The subject has what the report type needs, and the birthdate and country
 * it uses are readable (the country becomes its alpha-2 code). Checked
 * before a report is made: a step that cannot run leaves no report behind.
 */
function checkSubject(params: RunReportParams, subject: Subject): Subject {
  const needed = NEEDS[params.type];
  if (subject[needed] === undefined) {
    const from = params.objectId ? ` (nor does ${params.objectId} have one)` : '';
    throw new ScreeningError(ScreeningFailureType.SubjectMissing, `a ${params.type} report needs subject.${needed}${from}`, `/subject/${needed}`);
  }
  if (params.type === 'email_risk') return subject;
  if (subject.birthdate !== undefined && params.type !== 'phone_risk' && !isSubjectBirthdate(subject.birthdate)) {
    throw new ScreeningError(ScreeningFailureType.SubjectInvalid, `subject.birthdate "${subject.birthdate}" is not a date (YYYY-MM-DD) or a year (YYYY)`, '/subject/birthdate');
  }
  if (subject.country === undefined) return subject;
  const country = countryCode(subject.country);
  if (!country) throw new ScreeningError(ScreeningFailureType.SubjectInvalid, `subject.country "${subject.country}" is not an ISO 3166-1 alpha-2 code or a known country name`, '/subject/country');
  return { ...subject, country };
}

/** Will this failure end the step (no retry follows)? Anything unknown (the database briefly away) is retried. */
function isFinal(err: unknown): boolean {
  if (err instanceof ApplicationFailure) return err.nonRetryable === true;
  if (err instanceof ScreeningError) return !err.retryable;
  return err instanceof ObjectError;
}

/** Our errors become ApplicationFailures with their stable type; anything else (the database briefly away) stays retryable. */
function asFailure(err: unknown): unknown {
  if (err instanceof ScreeningError) {
    return ApplicationFailure.create({ type: err.failureType, message: err.message, nonRetryable: !err.retryable, details: err.path ? [{ path: err.path }] : undefined });
  }
  if (err instanceof ObjectError) return ApplicationFailure.create({ type: err.failureType, message: err.message, nonRetryable: true });
  return err;
}
