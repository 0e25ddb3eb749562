/**
 * Flow control expressions as tables: the concurrency key and the gate id
 * it gives, the idempotency key of an API body, and which events cancel a
 * run (type, object, match; a match that cannot be read never cancels).
 */
import { flowSchema, type Flow } from '../../src/interpreter/definition';
import { StepError } from '../../src/interpreter/errors';
import { cancelOnObjects, cancellingEntry, concurrencyGateId, concurrencyKeyOf, idempotencyKeyOf, stableHash } from '../../src/interpreter/flow';
import type { RunEvent } from '../../src/interpreter/planner';
import { RunData } from '../../src/interpreter/run-data';

const META = { id: 'run_01', workflowId: 'kyc', version: 2, triggerType: 'api', startedAt: '2024-05-01T11:00:00.000Z' };
const data = (trigger: unknown): RunData => new RunData(trigger, META);
const flow = (raw: unknown): Flow => flowSchema.parse(raw);

describe('concurrencyKeyOf', () => {
  test.each([
    ['a string field', 'trigger.accountId', { accountId: 'acc_1' }, 'acc_1'],
    ['a number field', 'trigger.tenant', { tenant: 42 }, '42'],
    ['a key built from the trigger and the run', 'run.workflowId + ":" + trigger.accountId', { accountId: 'acc_1' }, 'kyc:acc_1'],
    ['a constant: one slot for the whole workflow', '"all"', {}, 'all'],
  ])('%s', (_name, key, trigger, expected) => {
    expect(concurrencyKeyOf(flow({ concurrency: { key } }), data(trigger))).toBe(expected);
  });

  test.each([
    ['a missing field', 'trigger.accountId', {}, /No such key: accountId/],
    ['an empty string', 'trigger.accountId', { accountId: '' }, /non-empty string or a number, got ""/],
    ['a list', 'trigger.ids', { ids: [1] }, /got \[1\]/],
  ])('fails the run with ExpressionError on %s', (_name, key, trigger, message) => {
    expect(() => concurrencyKeyOf(flow({ concurrency: { key } }), data(trigger))).toThrow(StepError);
    expect(() => concurrencyKeyOf(flow({ concurrency: { key } }), data(trigger))).toThrow(message);
  });

  test('no concurrency: no key', () => {
    expect(concurrencyKeyOf(flow({}), data({}))).toBeNull();
  });

  test('the gate id is stable per workflow and key, and differs between them', () => {
    expect(concurrencyGateId('kyc', 'acc_1')).toBe(concurrencyGateId('kyc', 'acc_1'));
    expect(concurrencyGateId('kyc', 'acc_1')).not.toBe(concurrencyGateId('kyc', 'acc_2'));
    expect(concurrencyGateId('kyc', 'acc_1')).not.toBe(concurrencyGateId('aml', 'acc_1'));
    expect(concurrencyGateId('kyc', 'acc_1')).toMatch(/^idw-gate-kyc-[0-9a-f]{16}$/);
    expect(stableHash('')).toBe('cbf29ce484222325');
  });
});

describe('idempotencyKeyOf', () => {
  test.each([
    ['a request id', 'trigger.requestId', { requestId: 'req_9' }, 'req_9'],
    ['a combination', 'trigger.inquiryId + "/" + string(trigger.attempt)', { inquiryId: 'inq_1', attempt: 2 }, 'inq_1/2'],
  ])('%s', (_name, key, trigger, expected) => {
    expect(idempotencyKeyOf(flow({ idempotencyKey: key }), trigger)).toBe(expected);
  });
  test('none configured', () => {
    expect(idempotencyKeyOf(undefined, {})).toBeNull();
  });
  test('a body without the key field is an ExpressionError', () => {
    expect(() => idempotencyKeyOf(flow({ idempotencyKey: 'trigger.requestId' }), {})).toThrow(/flow.idempotencyKey: No such key: requestId/);
  });
});

describe('cancellingEntry', () => {
  const entries = flow({
    cancelOn: [
      { event: 'inquiry.redacted', object: 'trigger.inquiryId' },
      { event: 'account.tag-added', match: 'event.data.tag == "fraud"' },
    ],
  }).cancelOn!;
  const run = data({ inquiryId: 'inq_1' });
  const objects = cancelOnObjects(flow({ cancelOn: entries }), run);
  const event = (e: Partial<RunEvent>): RunEvent => ({ id: 'evt_1', type: 'inquiry.redacted', objectId: 'inq_1', ...e });

  test('the object ids are fixed from the trigger', () => {
    expect(objects).toEqual(['inq_1', null]);
  });

  test.each([
    ['the redaction of the run’s inquiry', event({}), 0],
    ['the redaction of another inquiry', event({ objectId: 'inq_2' }), -1],
    ['an event of another type about the inquiry', event({ type: 'inquiry.approved' }), -1],
    ['a fraud tag on any account', event({ type: 'account.tag-added', objectId: 'acc_9', data: { tag: 'fraud' } }), 1],
    ['another tag', event({ type: 'account.tag-added', objectId: 'acc_9', data: { tag: 'vip' } }), -1],
    ['a tag event whose data the match cannot read', event({ type: 'account.tag-added', objectId: 'acc_9' }), -1],
  ])('%s', (_name, incoming, expected) => {
    expect(cancellingEntry(entries, objects, run, incoming)).toBe(expected);
  });
});
