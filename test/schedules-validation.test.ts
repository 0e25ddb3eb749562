/**
 * Schedule and recurring triggers as the validator sees them: every bad
 * cron, time zone, interval, window, batch size and filter is reported with
 * its JSON Pointer; good ones pass; and filters compile to the SQL expected.
 */
import { ActionRegistry } from '../src/activities/registry';
import { validateDefinition } from '../src/interpreter/validate';
import { compileFilter } from '../src/schedules/filter-sql';
import { cronProblem } from '../src/schedules/trigger-checks';

const catalog = new ActionRegistry().catalog;
const steps = [{ id: 'log', type: 'action', action: 'log_message', params: { message: 'hi' } }];

function problems(trigger: unknown) {
  const result = validateDefinition({ trigger, steps }, catalog);
  return result.ok ? [] : result.problems.map((p) => ({ path: p.path, code: p.code }));
}

describe('schedule trigger', () => {
  it.each([
    [{ type: 'schedule', cron: '*/5 * * * *' }],
    [{ type: 'schedule', cron: '0 9 * * MON-FRI', timezone: 'Europe/Berlin' }],
    [{ type: 'schedule', cron: '@daily', timezone: 'America/New_York', overlap: 'buffer_one', catchupWindow: '10m' }],
    [{ type: 'schedule', interval: '2s', overlap: 'allow_all', input: { source: 'nightly' } }],
  ])('accepts %j', (trigger) => {
    expect(problems(trigger)).toEqual([]);
  });

  it.each([
    ['a cron minute out of range', { type: 'schedule', cron: '61 * * * *' }, [{ path: '/trigger/cron', code: 'invalid_schedule' }]],
    ['a cron with four fields', { type: 'schedule', cron: '* * * *' }, [{ path: '/trigger/cron', code: 'invalid_schedule' }]],
    ['a cron with seconds', { type: 'schedule', cron: '0 */5 * * * *' }, [{ path: '/trigger/cron', code: 'invalid_schedule' }]],
    ['a cron using L', { type: 'schedule', cron: '0 0 L * *' }, [{ path: '/trigger/cron', code: 'invalid_schedule' }]],
    ['an unknown shorthand', { type: 'schedule', cron: '@fortnightly' }, [{ path: '/trigger/cron', code: 'invalid_schedule' }]],
    ['an unknown time zone', { type: 'schedule', cron: '0 9 * * *', timezone: 'Mars/Olympus_Mons' }, [{ path: '/trigger/timezone', code: 'invalid_schedule' }]],
    ['a time zone on an interval', { type: 'schedule', interval: '1h', timezone: 'UTC' }, [{ path: '/trigger/timezone', code: 'invalid_schedule' }]],
    ['an interval that is no duration', { type: 'schedule', interval: 'often' }, [{ path: '/trigger/interval', code: 'invalid_duration' }]],
    ['an interval under a second', { type: 'schedule', interval: '500ms' }, [{ path: '/trigger/interval', code: 'out_of_range' }]],
    ['a catch-up window under 10s', { type: 'schedule', interval: '1h', catchupWindow: '5s' }, [{ path: '/trigger/catchupWindow', code: 'out_of_range' }]],
    ['an unknown overlap policy', { type: 'schedule', interval: '1h', overlap: 'sometimes' }, [{ path: '/trigger/overlap', code: 'invalid_shape' }]],
    ['both cron and interval', { type: 'schedule', cron: '* * * * *', interval: '1h' }, [{ path: '/trigger', code: 'invalid_shape' }]],
  ])('rejects %s', (_name, trigger, expected) => {
    expect(problems(trigger)).toEqual(expected);
  });

  it('explains a bad cron field', () => {
    expect(cronProblem('0 25 * * *')).toMatch(/hour/);
  });
});

describe('recurring trigger', () => {
  const base = { type: 'recurring', cron: '0 3 * * *', timezone: 'Europe/London', objectType: 'account' };

  it('accepts "every active account not screened in 30 days"', () => {
    expect(
      problems({
        ...base,
        batchSize: 200,
        filter: { all: [{ field: 'status', op: 'eq', value: 'active' }, { not: { hasReport: { type: 'watchlist', within: '30d' } } }] },
      }),
    ).toEqual([]);
  });

  it.each([
    ['an unknown field', { field: 'colour', op: 'eq', value: 'red' }, '/trigger/filter/field'],
    ['an operator that does not suit the field', { field: 'status', op: 'older_than', value: '30d' }, '/trigger/filter/op'],
    ['a list where one value goes', { field: 'status', op: 'eq', value: ['active'] }, '/trigger/filter/value'],
    ['a value for exists', { field: 'referenceId', op: 'exists', value: 'x' }, '/trigger/filter/value'],
    ['a timestamp that is not one', { field: 'createdAt', op: 'lt', value: 'yesterday' }, '/trigger/filter/value'],
    ['a bad duration', { all: [{ field: 'createdAt', op: 'older_than', value: 'ages' }] }, '/trigger/filter/all/0/value'],
    ['a bad hasReport window', { not: { hasReport: { within: 'a while' } } }, '/trigger/filter/not/hasReport/within'],
  ])('rejects %s with its path', (_name, filter, path) => {
    expect(problems({ ...base, filter })).toEqual([{ path, code: 'invalid_filter' }]);
  });

  it('rejects a batch size out of range and hasReport on cases', () => {
    expect(problems({ ...base, objectType: 'case', batchSize: 0, filter: { hasReport: {} } })).toEqual([
      { path: '/trigger/batchSize', code: 'out_of_range' },
      { path: '/trigger/filter/hasReport', code: 'invalid_filter' },
    ]);
  });

  it('rejects a filter of the wrong shape', () => {
    expect(problems({ ...base, filter: { field: 'status', op: 'like', value: 'a%' } })).toEqual([{ path: '/trigger/filter', code: 'invalid_shape' }]);
  });
});

describe('filters compiled to SQL', () => {
  const asOf = new Date('2025-03-31T00:00:00.000Z');

  it('binds every value and measures relative times from the dispatch', () => {
    const compiled = compileFilter(
      'account',
      {
        all: [
          { field: 'status', op: 'in', value: ['active', 'suspended'] },
          { field: 'fields.country', op: 'eq', value: 'GB' },
          { field: 'tags', op: 'contains', value: 'vip' },
          { not: { hasReport: { type: 'watchlist', within: '30d' } } },
        ],
      },
      asOf,
    );
    expect(compiled.sql).toBe(
      "(o.status = ANY($1::text[]) AND (o.fields ->> 'country') = $2 AND o.tags @> ARRAY[$3]::text[] AND " +
        '(NOT COALESCE(EXISTS (SELECT 1 FROM reports r WHERE r.object_id = o.id AND r.type = $4 AND r.created_at >= $5::timestamptz), false)))',
    );
    expect(compiled.params).toEqual([['active', 'suspended'], 'GB', 'vip', 'watchlist', '2025-03-01T00:00:00.000Z']);
  });

  it('matches everything without a filter', () => {
    expect(compileFilter('device', undefined, asOf)).toEqual({ sql: 'true', params: [] });
  });
});
