/**
 * The hosted inquiry page, outside /v1 because applicants, not API clients,
 * open it: `GET /inquiry-links/:token` shows the form, `POST` (a plain HTML
 * form post) completes the inquiry. Answers are HTML: 404 for an unknown
 * token, 410 for an expired or used one, 400 with the errors beside the
 * fields. The token travels only in the path; headers keep it out of
 * Referer, caches and frames.
 */
import express, { Router, type Response } from 'express';
import { z } from 'zod';
import type { EventRouter } from '../events/router';
import { lookUpLink, submitInquiryLink } from '../inquiry-links/links';
import { FORM_FIELDS, formPage, goneLinkPage, thankYouPage, unknownLinkPage, type FormFieldName } from '../inquiry-links/page';
import { birthdateSchema, countryCodeSchema, emailSchema, IllegalTransitionError, ObjectRedactedError, phoneSchema, type PersonFieldsInput } from '../objects';
import type { Db } from '../store/db';
import { STRICT_ROUTING } from './strict-routing';

export interface InquiryLinkRoutesDeps {
  db: Db;
  /** Nudged after a submission, so `inquiry.completed` reaches waiting runs at once. */
  router?: EventRouter;
}

const name = z.string().trim().min(1, 'Please enter this field.').max(200, 'Please use at most 200 characters.');
/** An empty optional input is "not given", as browsers send every field. */
const optional = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), schema.optional());

const submission = z.object({
  name_first: name,
  name_last: name,
  birthdate: z.string({ error: 'Please enter this field.' }).trim().min(1, 'Please enter this field.').pipe(birthdateSchema),
  email: optional(emailSchema),
  phone: optional(phoneSchema),
  country: z.string({ error: 'Please enter this field.' }).trim().min(1, 'Please enter this field.').pipe(countryCodeSchema),
});

function html(res: Response, status: number, page: string): void {
  res
    .status(status)
    .set({
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      // The path holds the token: never hand it to another site.
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    })
    .send(page);
}

/** What the applicant typed, as strings, for the form shown again; anything else in the body is ignored. */
function typedValues(body: unknown): Partial<Record<FormFieldName, string>> {
  const values: Partial<Record<FormFieldName, string>> = {};
  const b = (body ?? {}) as Record<string, unknown>;
  for (const f of FORM_FIELDS) if (typeof b[f.name] === 'string') values[f.name] = (b[f.name] as string).slice(0, 400);
  return values;
}

export function inquiryLinkRoutes(deps: InquiryLinkRoutesDeps): Router {
  const router = Router(STRICT_ROUTING);
  // Only this page takes form posts; the rest of the service speaks JSON.
  router.use(express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 50 }));

  router.get('/inquiry-links/:token', async (req, res) => {
    const state = await lookUpLink(deps.db, String(req.params.token));
    if (state.state === 'unknown') return html(res, 404, unknownLinkPage());
    if (state.state === 'gone') return html(res, 410, goneLinkPage(state.why));
    html(res, 200, formPage());
  });

  router.post('/inquiry-links/:token', async (req, res) => {
    const token = String(req.params.token);
    // Checked before validation, so an unknown or spent link never shows what was typed back.
    const before = await lookUpLink(deps.db, token);
    if (before.state === 'unknown') return html(res, 404, unknownLinkPage());
    if (before.state === 'gone') return html(res, 410, goneLinkPage(before.why));

    const parsed = submission.safeParse(req.body ?? {});
    if (!parsed.success) {
      const errors: Partial<Record<FormFieldName, string>> = {};
      for (const issue of parsed.error.issues) {
        const field = issue.path[0] as FormFieldName;
        errors[field] ??= issue.message;
      }
      return html(res, 400, formPage(typedValues(req.body), errors));
    }

    let after;
    try {
      after = await submitInquiryLink(deps.db, token, parsed.data satisfies PersonFieldsInput);
    } catch (err) {
      // The inquiry was decided, expired or redacted since the link was sent: the link has nothing left to do.
      if (err instanceof IllegalTransitionError || err instanceof ObjectRedactedError) return html(res, 410, goneLinkPage('closed'));
      throw err;
    }
    if (after.state === 'unknown') return html(res, 404, unknownLinkPage());
    // Another submission of the same link won the race.
    if (after.state === 'gone') return html(res, 410, goneLinkPage(after.why));
    deps.router?.nudge();
    html(res, 200, thankYouPage());
  });

  return router;
}
