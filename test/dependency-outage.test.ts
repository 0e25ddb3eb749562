/**
 * What counts as "a part of the service is away" (503 at the API, retried
 * through an outage in a step), and how long a step keeps trying.
 */
import { DEPENDENCY_OUTAGE_MS, dependencyRetryDelayMs } from '../src/interpreter';
import { isDependencyUnavailable } from '../src/store/unavailable';

describe('isDependencyUnavailable', () => {
  it.each([
    ['55000: database is not currently accepting connections', { code: '55000', message: 'database "test" is not currently accepting connections' }, true],
    ['57P01 admin shutdown', { code: '57P01' }, true],
    ['57P03 cannot connect now (starting up)', { code: '57P03' }, true],
    ['08006 connection failure', { code: '08006' }, true],
    ['08001 unable to connect', { code: '08001' }, true],
    ['53300 too many connections', { code: '53300' }, true],
    ['ECONNREFUSED', { code: 'ECONNREFUSED' }, true],
    ['a pg pool message without a code', new Error('Connection terminated unexpectedly'), true],
    ['gRPC UNAVAILABLE from Temporal', { code: 14, message: 'unavailable' }, true],
    ['nested as a cause', { message: 'wrapped', cause: { code: '57P01' } }, true],
    ['23505 unique violation', { code: '23505' }, false],
    ['22P02 invalid input', { code: '22P02' }, false],
    ['42P01 undefined table', { code: '42P01' }, false],
    ['a plain error', new Error('boom'), false],
    ['nothing', undefined, false],
  ])('%s', (_what, err, expected) => {
    expect(isDependencyUnavailable(err)).toBe(expected);
  });
});

describe('dependencyRetryDelayMs', () => {
  it.each([
    [0, 1, 500],
    [500, 2, 1000],
    [1500, 3, 2000],
    [3500, 4, 4000],
    [7500, 5, 5000],
    [60_000, 20, 5000],
    [DEPENDENCY_OUTAGE_MS - 1, 200, 5000],
    [DEPENDENCY_OUTAGE_MS, 201, null],
  ])('after %i ms of outage and %i failures: %p', (elapsed, failures, expected) => {
    expect(dependencyRetryDelayMs(elapsed, failures)).toBe(expected);
  });

  it('rides out a 60 s outage: the delays up to then stay under the limit and keep trying', () => {
    let elapsed = 0;
    let failures = 0;
    while (elapsed < 60_000) {
      const delay = dependencyRetryDelayMs(elapsed, ++failures);
      expect(delay).not.toBeNull();
      elapsed += delay! + 50;
    }
    expect(failures).toBeLessThan(30);
  });
});
