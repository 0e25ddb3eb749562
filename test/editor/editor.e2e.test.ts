/**
 * The visual editor in a real browser (Debian Chromium via playwright-core)
 * against the real API and worker: sign in, build the KYC example from an
 * empty canvas by clicking and typing, see a validation problem and fix it,
 * publish, test the draft and resolve its wait from the run view, and open a
 * failed run from the run list. Screenshots of the main screens go to
 * docs/screenshots/.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { validateDefinition } from '../../src/interpreter/validate';
import { api, createHarness, createUser, type Harness } from '../support/harness';
import { ensureEditorBuilt, Hands, launchBrowser, SCREENSHOTS, see, signIn, VIEWPORT } from './browser';

const ANALYST = { email: 'analyst@example.com', password: 'a long enough passphrase 42' };
const WORKFLOW = 'kyc_completed_review';

let h: Harness;
let browser: Browser;
let page: Page;
let blocklist: string;

const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, name) });

beforeAll(async () => {
  ensureEditorBuilt();
  h = await createHarness();
  await createUser(h, { ...ANALYST, role: 'editor' });
  const list = await api(h, 'POST', '/v1/lists', { name: 'Email blocklist', kind: 'email' });
  expect(list.status).toBe(201);
  blocklist = list.body.id;
  expect((await api(h, 'POST', `/v1/lists/${blocklist}/items`, { value: 'fraud@example.com' })).status).toBeLessThan(300);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: VIEWPORT });
});

afterAll(async () => {
  await browser?.close();
  await h?.close();
});

/** What a definition means, whatever order its steps are written in. */
function meaning(definition: any): unknown {
  const steps = [...definition.steps].sort((a: any, b: any) => a.id.localeCompare(b.id));
  return { trigger: definition.trigger, start: definition.start ?? definition.steps[0].id, steps, flow: definition.flow };
}

const side = () => page.getByRole('complementary', { name: 'Settings' });
const field = (label: string) => side().getByLabel(label, { exact: true });

it('builds the KYC example from an empty canvas by clicking and typing', async () => {
  await signIn(page, h.baseUrl, ANALYST, 'login.png');
  const hands = new Hands(page);
  const { click, type, choose, press } = {
    click: hands.click.bind(hands),
    type: hands.type.bind(hands),
    choose: hands.choose.bind(hands),
    press: hands.press.bind(hands),
  };
  const palette = (name: string) => page.getByRole('navigation', { name: 'Palette' }).getByRole('button', { name, exact: true });
  const pick = async (label: string, path: string) => {
    await click(side().getByRole('button', { name: `Insert data into ${label}`, exact: true }));
    await click(side().getByRole('option', { name: path, exact: true }));
  };
  const stepIdAndName = async (id: string, name?: string) => {
    await type(field('Step id'), id);
    await press(field('Step id'), 'Tab');
    await see.visible(page.getByTestId(`node-${id}`));
    if (name) await type(field('Name'), name);
  };
  const endStep = async (id: string, reason: string, output: Record<string, string>) => {
    await click(palette('Add End step'));
    await stepIdAndName(id);
    await type(field('Reason'), reason);
    for (const [key, value] of Object.entries(output)) {
      await type(side().getByLabel('New output name'), key);
      await click(side().getByRole('button', { name: 'Add output' }));
      await type(field(`Output ${key}`), value);
    }
  };
  const selectNode = async (id: string) => {
    await click(page.getByRole('button', { name: 'Fit View' }));
    await click(page.getByTestId(`node-${id}`));
    await see.value(side().getByLabel('Step id', { exact: true }), id);
  };

  await click(page.getByRole('button', { name: 'New workflow' }));
  await type(page.getByLabel('Workflow name'), 'Review completed KYC inquiries');
  await type(page.getByLabel('Workflow id'), WORKFLOW);

  // The trigger: inquiry.completed, only for the basic KYC template.
  await see.checked(side().getByRole('radio', { name: 'An event' }));
  await type(field('Event type'), 'inquiry.completed');
  await type(field('Only when row 1 field'), 'object.template');
  await type(field('Only when row 1 value'), 'tmpl_kyc_basic');

  // check_age: two rows, "all of".
  await click(palette('Add Condition step'));
  await stepIdAndName('check_age', 'Under 18?');
  await type(field('Route 1 label'), 'under 18');
  await type(field('Route 1 condition row 1 field'), 'trigger.object.fields.birthdate');
  await choose(field('Route 1 condition row 1 operator'), '!=');
  await type(field('Route 1 condition row 1 value'), 'null');
  await click(side().getByRole('button', { name: '+ Add row to route 1 condition' }));
  await type(field('Route 1 condition row 2 field'), 'age(trigger.object.fields.birthdate, now)');
  await choose(field('Route 1 condition row 2 operator'), '<');
  await type(field('Route 1 condition row 2 value'), '18');

  // Under 18: decline and end.
  await click(palette('Add action Decline inquiry'));
  await stepIdAndName('decline_minor', 'Decline: under 18');
  await pick('Inquiry id', 'trigger.object.id');
  await endStep('done_minor', '{{ trigger.object.id }} declined: applicant under 18', { decision: 'declined', why: 'minor' });

  // Otherwise: check the blocklist.
  await selectNode('check_age');
  await click(palette('Add action Check lists'));
  await stepIdAndName('check_blocklist', 'Email on the blocklist?');
  await choose(field('Lists'), blocklist);
  await pick('Value', 'trigger.object.fields.email');

  await click(palette('Add Condition step'));
  await stepIdAndName('route_blocklist');
  await type(field('Route 1 label'), 'on the blocklist');
  await pick('Route 1 condition row 1 field', 'steps.check_blocklist.output.matched');
  await choose(field('Route 1 condition row 1 operator'), 'is_true');

  await click(palette('Add action Tag object'));
  await stepIdAndName('tag_blocklisted', 'Tag the inquiry');
  await pick('Object id', 'trigger.object.id');
  await type(field('Tag'), 'blocklist-hit');

  await click(palette('Add action Create case'));
  await stepIdAndName('open_case', 'Open a review case');
  await type(field('Title'), 'Blocklisted email on ');
  await pick('Title', 'trigger.object.id');
  await choose(field('Priority'), 'high');
  await click(side().getByRole('button', { name: '+ Add to Links' }));
  await pick('Links 1', 'trigger.object.id');
  await click(side().getByRole('button', { name: '+ Add to Tags' }));
  await type(field('Tags 1'), 'blocklist-hit');

  await click(palette('Add Wait for event step'));
  await stepIdAndName('await_decision', 'Wait for the reviewer');
  await type(field('Event types'), 'case.resolved');
  await click(side().getByRole('button', { name: 'Add event type' }));
  await pick('Object id (CEL)', 'steps.open_case.output.id');
  await type(field('Default resolution time'), '3d');

  await click(palette('Add Condition step'));
  await stepIdAndName('decide');
  await type(field('Route 1 label'), 'nobody decided');
  await pick('Route 1 condition row 1 field', 'steps.await_decision.output.timedOut');
  await choose(field('Route 1 condition row 1 operator'), 'is_true');
  await click(side().getByRole('button', { name: 'Add route' }));
  await type(field('Route 2 label'), 'reviewer approved');
  await type(field('Route 2 condition row 1 field'), 'steps.await_decision.output.event.data.resolution');
  await type(field('Route 2 condition row 1 value'), 'approved');

  await click(palette('Add action Mark inquiry for review'));
  await stepIdAndName('mark_for_review');
  await pick('Inquiry id', 'trigger.object.id');
  await endStep('done_timed_out', '{{ trigger.object.id }}: no decision in time, marked for review', { decision: 'needs_review', why: 'timeout' });

  await selectNode('decide');
  await click(palette('Add action Approve inquiry'));
  await stepIdAndName('approve_reviewed');
  await pick('Inquiry id', 'trigger.object.id');
  await endStep('done_reviewed_approved', '{{ trigger.object.id }} approved by review', { decision: 'approved', why: 'review' });

  await selectNode('decide');
  await click(palette('Add action Decline inquiry'));
  await stepIdAndName('decline_reviewed');
  await pick('Inquiry id', 'trigger.object.id');
  await endStep('done_reviewed_declined', '{{ trigger.object.id }} declined by review', { decision: 'declined', why: 'review' });

  await selectNode('route_blocklist');
  await click(palette('Add action Approve inquiry'));
  await stepIdAndName('approve_clean', 'Approve');
  await pick('Inquiry id', 'trigger.object.id');
  await endStep('done_clean', '{{ trigger.object.id }} approved', { decision: 'approved', why: 'clean' });

  await see.visible(page.getByRole('button', { name: '✓ No problems: ready to publish' }));
  await click(page.getByRole('button', { name: 'Auto-layout' }));
  await click(page.getByRole('button', { name: 'Fit View' }));
  await click(page.getByTestId('node-check_age'));
  await shot('editor-canvas.png');
  await click(page.getByRole('button', { name: 'Save draft' }));
  await see.visible(page.getByRole('status').filter({ hasText: 'Draft saved.' }));

  const tally = hands.tally();
  // Reported by the test run (and in docs/editor.md): what building the example by hand takes.
  console.log(`building ${WORKFLOW} by hand: ${tally.clicks} clicks, ${tally.fieldsTyped} fields typed into, ${tally.keystrokes} keystrokes`);

  const saved = await api(h, 'GET', `/v1/workflows/${WORKFLOW}`);
  expect(saved.status).toBe(200);
  const example = JSON.parse(readFileSync(join(__dirname, '..', '..', 'examples', 'kyc-completed-review.json'), 'utf8').replaceAll('lst_replace_with_your_blocklist', blocklist));
  expect(saved.body.name).toBe(example.name);
  // The example as the API stores it (defaults filled in by the same parser), against what the editor saved.
  const parsed = validateDefinition(example.definition, h.registry.catalog);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  expect(meaning(saved.body.definition)).toEqual(meaning(parsed.definition));
});

it('shows a validation problem on its step, keeps Publish off, and publishes once it is fixed', async () => {
  await page.goto(`${h.baseUrl}/workflows/${WORKFLOW}`);
  await page.getByTestId('node-await_decision').click();
  await field('Default resolution time').fill('45d');
  const problems = side().getByRole('alert', { name: 'Problems in this step' });
  await see.text(problems, 'longer than the 30-day maximum');
  await see.visible(page.getByRole('button', { name: '1 problem: cannot publish yet' }));
  await see.disabled(page.getByRole('button', { name: 'Publish', exact: true }));
  await see.cls(page.getByTestId('node-await_decision'), /has-problems/);
  await shot('editor-validation.png');

  await field('Default resolution time').fill('3d');
  await see.visible(page.getByRole('button', { name: '✓ No problems: ready to publish' }));
  await see.count(problems, 0);
  await page.getByRole('button', { name: 'Publish', exact: true }).click();
  await see.visible(page.getByText('Published version 1; it is live.'));
  const versions = await api(h, 'GET', `/v1/workflows/${WORKFLOW}/versions`);
  expect(versions.body.liveVersion).toBe(1);
});

/** An inquiry that went through its life cycle up to completed, under a template the live workflow ignores. */
async function completedInquiry(fields: Record<string, unknown>): Promise<string> {
  const created = await api(h, 'POST', '/v1/inquiries', { template: 'tmpl_editor_test', fields });
  expect(created.status).toBe(201);
  expect((await api(h, 'POST', `/v1/inquiries/${created.body.id}/submit`, {})).status).toBe(200);
  expect((await api(h, 'POST', `/v1/inquiries/${created.body.id}/complete`, {})).status).toBe(200);
  return created.body.id;
}

function samplePayload(inquiryId: string, fields: Record<string, unknown>): string {
  return JSON.stringify({
    event: { id: `evt_${inquiryId}`, type: 'inquiry.completed', objectId: inquiryId, objectType: 'inquiry', data: {} },
    object: { id: inquiryId, type: 'inquiry', status: 'completed', template: 'tmpl_kyc_basic', fields },
  });
}

it('tests the draft with a sample payload and resolves its wait from the run view', async () => {
  const fields = { name_first: 'Eve', birthdate: '1985-05-05', email: 'fraud@example.com' };
  const inquiryId = await completedInquiry(fields);
  await page.goto(`${h.baseUrl}/workflows/${WORKFLOW}`);
  await page.getByRole('button', { name: 'Test', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Test the draft' });
  await dialog.getByLabel('Sample payload').fill(samplePayload(inquiryId, fields));
  await dialog.getByRole('button', { name: 'Start test run' }).click();

  await see.cls(page.getByTestId('node-await_decision'), /status-waiting/);
  await see.cls(page.getByTestId('node-open_case'), /status-completed/);
  await see.cls(page.getByTestId('node-check_age'), /status-completed/);
  await page.getByTestId('node-await_decision').click();
  const details = page.getByRole('complementary', { name: 'Step details' });
  const form = details.getByRole('form', { name: 'Deliver an event' });
  await see.value(form.getByLabel('Object id'), /^case_/);
  await form.getByLabel('Event data (JSON)').fill('{"resolution": "approved"}');
  await shot('run-waiting.png');
  await form.getByRole('button', { name: 'Deliver event' }).click();

  await see.exactText(page.getByTestId('run-status'), 'completed');
  await see.cls(page.getByTestId('node-done_reviewed_approved'), /status-completed/);
  expect(await page.getByTestId('node-decline_reviewed').getAttribute('class')).not.toMatch(/status-completed/);
  await see.text(page.getByRole('status', { name: 'Run result' }), `${inquiryId} approved by review`);
  expect((await api(h, 'GET', `/v1/inquiries/${inquiryId}`)).body.status).toBe('approved');
  await page.getByTestId('node-approve_reviewed').click();
  await see.text(details.getByLabel('Step inputs'), inquiryId);
  await shot('run-completed.png');
});

it('opens a failed run from the run list and shows its error', async () => {
  // A minor whose inquiry does not exist: declining it fails.
  await page.goto(`${h.baseUrl}/workflows/${WORKFLOW}`);
  await page.getByRole('button', { name: 'Test', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Test the draft' });
  await dialog.getByLabel('Sample payload').fill(samplePayload('inq_missing0', { birthdate: '2015-01-01', email: 'kid@example.com' }));
  await dialog.getByRole('button', { name: 'Start test run' }).click();
  await see.exactText(page.getByTestId('run-status'), 'failed', 60_000);
  const failedRun = new URL(page.url()).pathname.split('/').pop()!;

  await page.getByRole('link', { name: WORKFLOW, exact: true }).click();
  await page.getByRole('button', { name: 'Runs', exact: true }).click();
  const runs = page.getByRole('dialog', { name: `Runs of ${WORKFLOW}` });
  await see.count(runs.getByRole('row'), 3); // the header and two test runs
  await runs.getByRole('link', { name: failedRun }).click();

  await see.text(page.getByRole('status', { name: 'Run result' }), 'Failed at decline_minor');
  await page.getByTestId('node-decline_minor').click();
  const error = page.getByRole('complementary', { name: 'Step details' }).getByRole('alert', { name: 'Step error' });
  await see.text(error, 'ObjectNotFound');
  await see.text(error, 'inq_missing0');
  await see.attr(page.getByRole('link', { name: /Temporal Web UI/ }), 'href', new RegExp(`/workflows/${failedRun}$`));
  await shot('run-failed.png');

  await page.getByRole('link', { name: '← Workflows' }).click();
  const row = page.getByRole('row', { name: /Review completed KYC inquiries/ });
  await see.text(row, 'v1');
  await see.exactText(row.getByRole('cell').nth(5), '1');
  await shot('workflow-list.png');
});
