/**
 * The run_report action called as the worker calls it, against the real
 * PostgreSQL: one report per idempotency key however often an attempt is
 * repeated, the email and phone risk tables, adverse media through a
 * loopback provider (matching, authentication, refusals that are final and
 * failures that are retried), and the subject checks that fail a step
 * before any report is made.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import type { ActionContext, ActionDefinition } from '../src/activities/action-definition';
import { reportActions, type ReportActionDeps } from '../src/activities/report-actions';
import { CredentialError, type CredentialResolver } from '../src/credentials/kinds';
import { addListItem, createAccount, createAccountInput, createList } from '../src/objects';
import { importWatchlist } from '../src/screening';
import { createHarness, type Harness } from './support/harness';

let h: Harness;
let provider: Server;
let providerUrl: string;
/** What the provider answers next: a status and a body. */
let answer: { status: number; body: unknown } = { status: 200, body: { articles: [] } };
const received: { body: any; headers: IncomingMessage['headers'] }[] = [];

const credentials: CredentialResolver = {
  async resolve(id, kind) {
    // cred_partner belongs to another service: a step naming it must not send its token to the media provider.
    if (id === 'cred_partner' && kind === 'https') return { bearerToken: 'partner-token', allowedHosts: ['api.partner.example'] } as never;
    if (id !== 'cred_media' || kind !== 'https') throw new CredentialError(`no ${kind} credential ${id}`);
    return { bearerToken: 'media-token', allowedHosts: ['127.0.0.1'] } as never;
  },
};

function runReport(extra: Partial<ReportActionDeps> = {}): ActionDefinition<any> {
  return reportActions({ db: h.db, credentials, network: { allowList: ['127.0.0.1'] }, adverseMedia: { url: providerUrl, credentialId: 'cred_media' }, ...extra })[0] as ActionDefinition<any>;
}

let keys = 0;
function context(overrides: Partial<ActionContext> = {}): ActionContext {
  keys++;
  return { idempotencyKey: `run_checks:step_${keys}`, runId: 'run_checks', stepId: `step_${keys}`, attempt: 1, log: () => undefined, signal: new AbortController().signal, ...overrides };
}

async function run(params: Record<string, unknown>, ctx = context(), action = runReport()): Promise<any> {
  return action.run(action.params.parse(params), ctx);
}

async function failure(params: Record<string, unknown>, ctx = context(), action = runReport()): Promise<ApplicationFailure> {
  const err = await run(params, ctx, action).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ApplicationFailure)) throw new Error(`expected an ApplicationFailure, got ${String(err)}`);
  return err;
}

async function reportsCount(): Promise<number> {
  const { rows } = await h.db.query<{ n: string }>('SELECT count(*) AS n FROM reports');
  return Number(rows[0].n);
}

async function eventTypes(objectId: string): Promise<string[]> {
  const { rows } = await h.db.query<{ type: string }>('SELECT type FROM events WHERE object_id = $1 ORDER BY seq', [objectId]);
  return rows.map((r) => r.type);
}

beforeAll(async () => {
  provider = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      received.push({ body: JSON.parse(body), headers: req.headers });
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve));
  providerUrl = `http://127.0.0.1:${(provider.address() as AddressInfo).port}/v1/search`;
  h = await createHarness({ worker: false });
  const fixture = (name: string) => readFileSync(join(__dirname, 'fixtures', 'screening', name), 'utf8');
  await importWatchlist(h.db, { source: 'ofac_sdn', list: 'sanctions', csv: fixture('sdn-sample.csv') });
});

afterAll(async () => {
  await h?.close();
  await new Promise((resolve) => provider?.close(resolve));
});

describe('idempotency', () => {
  it('the same idempotency key makes one report, however often the attempt runs', async () => {
    const before = await reportsCount();
    const ctx = context();
    const first = await run({ type: 'watchlist', subject: { name: 'Rustam Karimov' } }, ctx);
    const again = await run({ type: 'watchlist', subject: { name: 'Rustam Karimov' } }, { ...ctx, attempt: 2 });
    expect(again).toEqual(first);
    expect(first).toMatchObject({ status: 'ready', hasMatch: true, matches: [{ entryId: 'ofac_sdn:9001' }] });
    expect(await reportsCount()).toBe(before + 1);
    expect(await eventTypes(first.reportId)).toEqual(['report/watchlist.created', 'report/watchlist.ready', 'report/watchlist.matched']);

    const otherStep = await run({ type: 'watchlist', subject: { name: 'Rustam Karimov' } });
    expect(otherStep.reportId).not.toBe(first.reportId);
    expect(await reportsCount()).toBe(before + 2);
  });

  it('two attempts at once still make one report', async () => {
    const before = await reportsCount();
    const ctx = context();
    const [a, b] = await Promise.all([run({ type: 'email_risk', subject: { email: 'twice@example.com' } }, ctx), run({ type: 'email_risk', subject: { email: 'twice@example.com' } }, ctx)]);
    expect(a.reportId).toBe(b.reportId);
    expect(await reportsCount()).toBe(before + 1);
  });
});

describe('email risk', () => {
  let blockList: string;
  beforeAll(async () => {
    blockList = await h.db.transaction(async (tx) => {
      const list = (await createList(tx, { name: 'blocked emails', kind: 'email', description: '', tags: [] })).object;
      await addListItem(tx, list.id, 'blocked@example.com');
      return list.id;
    });
  });

  it.each([
    ['a good address', 'ann@example.com', [], { valid: true, domain: 'example.com', disposable: false, riskScore: 0 }],
    ['a disposable domain', 'someone@mailinator.com', [{ signal: 'disposable_domain', score: 0.9, domain: 'mailinator.com' }], { valid: true, disposable: true, riskScore: 0.9 }],
    ['a subdomain of a disposable domain', 'x@inbox.guerrillamail.com', [{ signal: 'disposable_domain', domain: 'guerrillamail.com' }], { disposable: true }],
    ['no @', 'not-an-email', [{ signal: 'invalid_syntax', score: 1, reason: 'no @' }], { valid: false, riskScore: 1 }],
    ['a double dot', 'a..b@example.com', [{ signal: 'invalid_syntax', reason: 'the part before the @ has a misplaced dot' }], { valid: false }],
    ['no top-level domain', 'user@localhost', [{ signal: 'invalid_syntax', reason: 'the domain is not a valid domain name' }], { valid: false }],
    ['a one-letter top-level domain', 'user@example.c', [{ signal: 'invalid_syntax', reason: 'the domain has no valid top-level domain' }], { valid: false }],
    ['a numeric last label (an IP address)', 'user@10.0.0.300', [{ signal: 'invalid_syntax', reason: 'the domain is not a valid domain name' }], { valid: false }],
    ['an internationalised domain', 'leser@bücher.de', [], { valid: true, domain: 'xn--bcher-kva.de' }],
    ['on a block list, in other case', 'BLOCKED@Example.com', 'list', { valid: true }],
  ] as [string, string, Record<string, unknown>[] | 'list', Record<string, unknown>][])('%s: %s', async (_, email, expected, details) => {
    const output = await run({ type: 'email_risk', subject: { email }, lists: [blockList] });
    const matches = expected === 'list' ? [{ signal: 'list_membership', score: 1, listId: blockList, listName: 'blocked emails' }] : expected;
    expect(output.hasMatch).toBe(matches.length > 0);
    expect(output.matches).toHaveLength(matches.length);
    matches.forEach((m, i) => expect(output.matches[i]).toMatchObject(m));
    const report = await h.db.query<{ details: any; has_match: boolean }>('SELECT details, has_match FROM reports WHERE id = $1', [output.reportId]);
    // An address that is not one cannot be on a list: no list is looked at.
    expect(report.rows[0].details).toMatchObject({ ...details, listsChecked: details.valid === false ? 0 : 1, subjectFields: ['email'] });
  });

  it('an unknown list fails the step without retry, leaving the report errored', async () => {
    const ctx = context();
    const err = await failure({ type: 'email_risk', subject: { email: 'ann@example.com' }, lists: ['lst_01aaaaaaaaaaaaaaaaaaaaaaaa'] }, ctx);
    expect(err).toMatchObject({ type: 'ObjectNotFound', nonRetryable: true });
    const { rows } = await h.db.query<{ id: string; status: string }>(`SELECT r.id, r.status FROM reports r JOIN action_effects e ON e.result->>'id' = r.id WHERE e.idempotency_key = $1`, [`${ctx.idempotencyKey}:create`]);
    expect(rows[0].status).toBe('errored');
    expect(await eventTypes(rows[0].id)).toEqual(['report/email_risk.created', 'report/email_risk.errored']);
  });
});

describe('phone risk', () => {
  let blockList: string;
  beforeAll(async () => {
    blockList = await h.db.transaction(async (tx) => {
      const list = (await createList(tx, { name: 'blocked phones', kind: 'phone', description: '', tags: [] })).object;
      await addListItem(tx, list.id, '+44 20 7946 0999');
      return list.id;
    });
  });

  it.each([
    ['a US number', '+1 415 555 2671', 'US', [], { valid: true, country: 'US', lineType: 'fixed_line_or_mobile' }],
    ['a national number read with the subject country', '020 7946 0000', 'GB', [], { valid: true, country: 'GB', lineType: 'fixed_line', countryCallingCode: '44' }],
    ['a German mobile', '+49 151 12345678', 'DE', [], { valid: true, country: 'DE', lineType: 'mobile' }],
    ['premium rate', '+1 900 200 1234', 'US', [{ signal: 'risky_line_type', score: 0.8, lineType: 'premium_rate' }], { lineType: 'premium_rate' }],
    ['toll free', '+1 800 555 1234', undefined, [{ signal: 'risky_line_type', score: 0.5, lineType: 'toll_free' }], { country: 'US' }],
    ['VoIP', '+882 16 00000000', undefined, [{ signal: 'risky_line_type', score: 0.7, lineType: 'voip' }], { valid: true, country: null }],
    ['another country than the subject', '+49 151 12345678', 'FR', [{ signal: 'country_mismatch', score: 0.4, phoneCountry: 'DE', subjectCountry: 'FR' }], { country: 'DE' }],
    ['not a number', '12345', undefined, [{ signal: 'invalid_number', score: 1 }], { valid: false, riskScore: 1 }],
    ['too short for its country', '+44 20 7946', undefined, [{ signal: 'invalid_number' }], { valid: false }],
    ['on a block list', '+44 (20) 7946-0999', 'GB', 'list', { valid: true }],
  ] as [string, string, string | undefined, Record<string, unknown>[] | 'list', Record<string, unknown>][])('%s: %s', async (_, phone, country, expected, details) => {
    const output = await run({ type: 'phone_risk', subject: { phone, country }, lists: [blockList] });
    const matches = expected === 'list' ? [{ signal: 'list_membership', listId: blockList, listName: 'blocked phones' }] : expected;
    expect(output.hasMatch).toBe(matches.length > 0);
    expect(output.matches).toHaveLength(matches.length);
    matches.forEach((m, i) => expect(output.matches[i]).toMatchObject(m));
    const report = await h.db.query<{ details: any }>('SELECT details FROM reports WHERE id = $1', [output.reportId]);
    expect(report.rows[0].details).toMatchObject(details);
    // The number itself is not kept on the report.
    expect(JSON.stringify(report.rows[0].details)).not.toMatch(/7946|2671|12345678/);
  });

  it('an unreadable country fails before any report is made', async () => {
    const before = await reportsCount();
    const err = await failure({ type: 'phone_risk', subject: { phone: '+14155552671', country: 'Atlantis' } });
    expect(err).toMatchObject({ type: 'ReportSubjectInvalid', nonRetryable: true });
    expect(err.details).toEqual([{ path: '/subject/country' }]);
    expect(await reportsCount()).toBe(before);
  });
});

describe('adverse media', () => {
  it('posts the subject with the credential, and counts only articles that name the subject', async () => {
    answer = {
      status: 200,
      body: {
        articles: [
          { title: 'Ministry fines Rustam Karimov over smuggling', url: 'https://news.example/a', source: 'Example News', publishedAt: '2024-02-01', categories: ['smuggling'], score: 0.8 },
          { title: 'Weather report', url: 'https://news.example/b', snippet: 'Rain in Kazan; Karimov Street closed. Rustam Ahmedov won the chess cup.', score: 0.99 },
          { title: 'Court date set', url: 'https://news.example/c', snippet: 'Prosecutors say R. Karimov moved funds abroad.' },
        ],
      },
    };
    const output = await run({ type: 'adverse_media', subject: { name: 'Rustam Karimov', birthdate: '1968-03-14', country: 'Russia' } });
    expect(received.at(-1)).toMatchObject({ body: { name: 'Rustam Karimov', birthdate: '1968-03-14', country: 'RU', limit: 100 }, headers: { authorization: 'Bearer media-token', 'content-type': 'application/json' } });
    expect(output).toMatchObject({ status: 'ready', hasMatch: true });
    expect(output.matches).toEqual([
      { title: 'Ministry fines Rustam Karimov over smuggling', url: 'https://news.example/a', source: 'Example News', publishedAt: '2024-02-01', categories: ['smuggling'], score: 1, providerScore: 0.8 },
      { title: 'Court date set', url: 'https://news.example/c', source: null, publishedAt: null, categories: [], score: expect.any(Number), providerScore: null },
    ]);
    expect(output.matches[1].score).toBeGreaterThanOrEqual(0.88);
    expect(await eventTypes(output.reportId)).toEqual(['report/adverse_media.created', 'report/adverse_media.ready', 'report/adverse_media.matched']);
  });

  it('a refusal (4xx) or an answer outside the protocol is final: the report is errored', async () => {
    for (const [status, body, pattern] of [
      [401, { error: 'bad token' }, /answered 401/],
      [200, 'not json', /did not answer JSON/],
      [200, { results: [] }, /not \{articles/],
    ] as const) {
      answer = { status, body };
      const ctx = context();
      const err = await failure({ type: 'adverse_media', subject: { name: 'Rustam Karimov' } }, ctx);
      expect(err).toMatchObject({ type: 'ReportProviderRejected', nonRetryable: true });
      expect(err.message).toMatch(pattern);
      const { rows } = await h.db.query<{ status: string; error: string }>(`SELECT status, error FROM reports WHERE id = (SELECT result->>'id' FROM action_effects WHERE idempotency_key = $1)`, [`${ctx.idempotencyKey}:create`]);
      expect(rows[0]).toMatchObject({ status: 'errored', error: expect.stringMatching(pattern) });
    }
  });

  it('a provider briefly down is retried: the report stays pending, and the next attempt finishes it', async () => {
    answer = { status: 503, body: { error: 'busy' } };
    const ctx = context();
    const err = await failure({ type: 'adverse_media', subject: { name: 'Rustam Karimov' } }, ctx);
    expect(err).toMatchObject({ type: 'ReportProviderUnavailable', nonRetryable: false });
    const reportOf = async () => (await h.db.query<{ id: string; status: string }>(`SELECT id, status FROM reports WHERE id = (SELECT result->>'id' FROM action_effects WHERE idempotency_key = $1)`, [`${ctx.idempotencyKey}:create`])).rows[0];
    expect((await reportOf()).status).toBe('pending');

    for (const status of [429, 408]) {
      answer = { status, body: {} };
      expect(await failure({ type: 'adverse_media', subject: { name: 'Rustam Karimov' } }, { ...ctx, attempt: 2 })).toMatchObject({ type: 'ReportProviderUnavailable', nonRetryable: false });
    }

    answer = { status: 200, body: { articles: [{ title: 'Rustam Karimov acquitted', url: 'https://news.example/d' }] } };
    const done = await run({ type: 'adverse_media', subject: { name: 'Rustam Karimov' } }, { ...ctx, attempt: 4 });
    const report = await reportOf();
    expect(done).toMatchObject({ reportId: report.id, status: 'ready', hasMatch: true });
    expect(await eventTypes(report.id)).toEqual(['report/adverse_media.created', 'report/adverse_media.ready', 'report/adverse_media.matched']);
  });

  it('without a provider, over plain http to a host not allowed, or with an unknown credential, it fails without retry', async () => {
    const saved = process.env.ADVERSE_MEDIA_URL;
    delete process.env.ADVERSE_MEDIA_URL;
    try {
      const none = await failure({ type: 'adverse_media', subject: { name: 'Rustam Karimov' } }, context(), reportActions({ db: h.db })[0] as ActionDefinition<any>);
      expect(none).toMatchObject({ type: 'ReportProviderNotConfigured', nonRetryable: true });
    } finally {
      if (saved !== undefined) process.env.ADVERSE_MEDIA_URL = saved;
    }
    const plainHttp = await failure({ type: 'adverse_media', subject: { name: 'Rustam Karimov' } }, context(), runReport({ network: { allowList: [] } }));
    expect(plainHttp).toMatchObject({ type: 'ReportProviderNotConfigured', nonRetryable: true });
    expect(plainHttp.message).toMatch(/127\.0\.0\.1 is a loopback address/);
    const unknownCredential = await failure({ type: 'adverse_media', subject: { name: 'Rustam Karimov' }, credentialId: 'cred_gone' });
    expect(unknownCredential).toMatchObject({ type: 'CredentialError', nonRetryable: true });
    // Another service's credential is not sent to the provider's host (finding 4): nothing reaches the provider.
    const sentBefore = received.length;
    const otherHost = await failure({ type: 'adverse_media', subject: { name: 'Rustam Karimov' }, credentialId: 'cred_partner' });
    expect(otherHost).toMatchObject({ type: 'ReportProviderNotConfigured', nonRetryable: true });
    expect(otherHost.message).toContain('credential "cred_partner" may only be sent to api.partner.example, not to 127.0.0.1');
    expect(received.length).toBe(sentBefore);
    // An allow-list entry may be a CIDR range.
    answer = { status: 200, body: { articles: [] } };
    const inRange = await run({ type: 'adverse_media', subject: { name: 'Nobody Inparticular' } }, context(), runReport({ network: { allowList: ['127.0.0.0/8'] } }));
    expect(inRange).toMatchObject({ status: 'ready', hasMatch: false });
  });
});

describe('subjects', () => {
  it.each([
    ['watchlist without a name', { type: 'watchlist', subject: { name: '  ' } }, 'ReportSubjectMissing', '/subject/name'],
    ['email risk without an email', { type: 'email_risk', subject: { name: 'Ann' } }, 'ReportSubjectMissing', '/subject/email'],
    ['an unreadable birthdate', { type: 'watchlist', subject: { name: 'Rustam Karimov', birthdate: '14/03/1968' } }, 'ReportSubjectInvalid', '/subject/birthdate'],
  ])('%s fails without retry and without a report', async (_, params, type, path) => {
    const before = await reportsCount();
    const err = await failure(params);
    expect(err).toMatchObject({ type, nonRetryable: true });
    expect(err.details).toEqual([{ path }]);
    expect(await reportsCount()).toBe(before);
  });

  it('takes missing fields from the account the report is about', async () => {
    const input = createAccountInput.parse({ fields: { name_first: 'Hiroshi', name_last: 'Tanaka', address: { country: 'JP' } } });
    const accountId = await h.db.transaction(async (tx) => (await createAccount(tx, input)).object.id);
    const output = await run({ type: 'watchlist', objectId: accountId });
    expect(output.matches[0]).toMatchObject({ entryId: 'ofac_sdn:9012', evidence: ['country_match'] });
  });

  it('a list nothing was imported into fails without retry, leaving the report errored', async () => {
    const err = await failure({ type: 'pep', subject: { name: 'Anna Kowalska' } });
    expect(err).toMatchObject({ type: 'WatchlistNotLoaded', nonRetryable: true });
    const { rows } = await h.db.query<{ status: string }>(`SELECT status FROM reports WHERE type = 'pep'`);
    expect(rows).toEqual([{ status: 'errored' }]);
  });
});
