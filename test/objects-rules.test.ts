/**
 * The object rules as tables, with no database: which status moves are
 * legal (spelled out here independently of src/objects/transitions.ts, so a
 * change to a life cycle has to be made twice, on purpose), which event
 * each move emits, how list values are normalised, and how person fields
 * are checked and merged.
 */
import {
  ACCOUNT_FLOW,
  canMove,
  CASE_FLOW,
  createInquiryInput,
  INQUIRY_FLOW,
  mergePersonFields,
  normaliseListValue,
  objectTypeOf,
  personFieldsInput,
  REPORT_FLOW,
  type ListKind,
  type StatusFlow,
} from '../src/objects';

const LEGAL: [string, StatusFlow<string>, string[]][] = [
  [
    'inquiry',
    INQUIRY_FLOW as StatusFlow<string>,
    [
      'created->pending', 'created->expired',
      'pending->completed', 'pending->failed', 'pending->expired',
      'completed->needs_review', 'completed->approved', 'completed->declined',
      'failed->needs_review', 'failed->approved', 'failed->declined',
      'expired->needs_review', 'expired->approved', 'expired->declined',
      'needs_review->approved', 'needs_review->declined',
    ],
  ],
  ['case', CASE_FLOW as StatusFlow<string>, ['open->pending', 'open->resolved', 'pending->open', 'pending->resolved']],
  ['account', ACCOUNT_FLOW as StatusFlow<string>, ['active->suspended', 'active->closed', 'suspended->active', 'suspended->closed']],
  ['report', REPORT_FLOW as StatusFlow<string>, ['pending->ready', 'pending->errored']],
];

describe.each(LEGAL)('%s life cycle', (_type, flow, legal) => {
  const pairs = flow.statuses.flatMap((from) => flow.statuses.map((to) => [from, to] as const));
  it.each(pairs)('%s -> %s', (from, to) => {
    expect(canMove(flow, from, to)).toBe(legal.includes(`${from}->${to}`));
  });
  it('has a verb for every status something can move to', () => {
    const targets = new Set(legal.map((p) => p.split('->')[1]));
    expect(new Set(Object.values(flow.verbs))).toEqual(targets);
  });
});

describe('events of inquiry moves', () => {
  it.each([
    ['pending', 'pending'],
    ['completed', 'completed'],
    ['failed', 'failed'],
    ['expired', 'expired'],
    ['needs_review', 'marked-for-review'],
    ['approved', 'approved'],
    ['declined', 'declined'],
  ] as const)('a move to %s emits inquiry.%s', (status, event) => {
    expect(INQUIRY_FLOW.event[status]).toBe(event);
  });
  it('case moves emit case.pending / case.opened / case.resolved', () => {
    expect(CASE_FLOW.event).toMatchObject({ pending: 'pending', open: 'opened', resolved: 'resolved' });
  });
});

describe('list values', () => {
  it.each<[ListKind, string, string]>([
    ['email', '  Ann.Lee@Example.COM ', 'ann.lee@example.com'],
    ['phone', '+1 (415) 555-0100', '+14155550100'],
    ['name', '  Ann   LEE ', 'ann lee'],
    ['government_id', 'ab-123 456/7', 'AB1234567'],
    ['ip', ' 2001:DB8::1 ', '2001:db8::1'],
    ['ip', '10.0.0.1', '10.0.0.1'],
    ['country', ' de', 'DE'],
    ['text', '  anything  ', 'anything'],
  ])('%s: %j is stored as %j', (kind, raw, stored) => {
    expect(normaliseListValue(kind, raw)).toEqual({ ok: true, value: stored });
  });
  it.each<[ListKind, string]>([
    ['email', 'not-an-email'],
    ['phone', '12'],
    ['ip', '300.1.1.1'],
    ['country', 'Germany'],
    ['name', '   '],
    ['government_id', ' - '],
  ])('%s rejects %j', (kind, raw) => {
    expect(normaliseListValue(kind, raw)).toMatchObject({ ok: false });
  });
});

describe('person fields', () => {
  it('normalises what is typed and rejects what is wrong, with paths', () => {
    expect(personFieldsInput.parse({ email: ' A@B.CO ', country: 'fr', phone: '+33 1 23 45 67 89', address: { city: 'Paris', country: 'fr' } })).toEqual({
      email: 'a@b.co',
      country: 'FR',
      phone: '+33123456789',
      address: { city: 'Paris', country: 'FR' },
    });
    const bad = personFieldsInput.safeParse({ birthdate: '2001-02-30', email: 'x', country: 'France', emial: 'typo', address: { zip: '1' } });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => i.path.join('/')).sort()).toEqual(['', 'address', 'birthdate', 'country', 'email']);
  });

  it('refuses a birthdate in the future', () => {
    const next = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);
    expect(personFieldsInput.safeParse({ birthdate: next }).success).toBe(false);
  });

  it('merges: values set, nulls delete the key, unchanged values are not reported', () => {
    const merged = mergePersonFields({ email: 'a@b.co', name_first: 'Ann' }, { email: null, name_first: 'Ann', phone: '+4930123456' });
    expect(merged).toEqual({ fields: { name_first: 'Ann', phone: '+4930123456' }, changed: ['email', 'phone'] });
  });

  it('takes defaults for an inquiry made from a template alone', () => {
    expect(createInquiryInput.parse({ template: 'kyc' })).toEqual({ template: 'kyc', fields: {}, scores: {}, tags: [] });
  });
});

describe('ids', () => {
  it.each([
    ['inq_01jabc', 'inquiry'],
    ['act_01jabc', 'account'],
    ['case_01jabc', 'case'],
    ['rep_01jabc', 'report'],
    ['lst_01jabc', 'list'],
    ['dev_01jabc', 'device'],
    ['wfl_01jabc', undefined],
    ['inq_', undefined],
    ['INQ_01', undefined],
  ])('%s is %s', (id, type) => {
    expect(objectTypeOf(id)).toBe(type);
  });
});
