/**
 * docs/actions.md stays true for Run Report: the section's example step is
 * a valid step of run_report, and every failure type the action can raise
 * is named in it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ActionRegistry } from '../src/activities/registry';
import { reportActions } from '../src/activities/report-actions';
import { validateDefinition } from '../src/interpreter/validate';

// The catalog needs no database: actions touch it only when they run.
const catalog = ActionRegistry.with(reportActions({ db: undefined as never })).catalog;
const markdown = readFileSync(join(__dirname, '..', 'docs', 'actions.md'), 'utf8');
const start = markdown.indexOf('\n## Run Report\n');
const next = markdown.indexOf('\n## ', start + 1);
const section = markdown.slice(start, next < 0 ? undefined : next);

describe('docs/actions.md: Run Report', () => {
  it('has the section', () => {
    expect(start).toBeGreaterThanOrEqual(0);
  });

  it('its example step is a valid run_report step', () => {
    const examples = [...section.matchAll(/```json\n([\s\S]*?)\n```/g)].map((m) => JSON.parse(m[1]) as { action?: string });
    const steps = examples.filter((e) => e.action === 'run_report');
    expect(steps.length).toBeGreaterThan(0);
    for (const step of steps) {
      const result = validateDefinition({ trigger: { type: 'api' }, steps: [step] }, catalog);
      expect(result.ok ? [] : result.problems).toEqual([]);
    }
  });

  it('names every failure type the action raises, and every report type', () => {
    const spec = catalog.get('run_report')!;
    const raised = [...(spec.policy.retry.nonRetryableErrorTypes ?? []), ...(spec.errorTypes ?? [])];
    expect(raised.length).toBeGreaterThan(5);
    expect(raised.filter((type) => !section.includes(`\`${type}\``))).toEqual([]);
    for (const type of ['watchlist', 'pep', 'adverse_media', 'email_risk', 'phone_risk']) expect(section).toContain(`\`${type}\``);
  });
});
