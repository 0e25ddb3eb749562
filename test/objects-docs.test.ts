/**
 * docs/objects.md must stay true: its example definition passes the
 * validator with the real object actions, and it names every status, every
 * event a status move emits, every action, and every list kind and report
 * type the code knows.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRegistry } from '../src/activities';
import { validateDefinition } from '../src/interpreter/validate';
import { ACCOUNT_FLOW, CASE_FLOW, INQUIRY_FLOW, LIST_KINDS, REPORT_FLOW, REPORT_TYPES, type StatusFlow } from '../src/objects';
import type { Db } from '../src/store/db';

const doc = readFileSync(join(__dirname, '..', 'docs', 'objects.md'), 'utf8');
// The catalog needs no database: actions only touch it when they run.
const registry = createRegistry({ db: undefined as unknown as Db });

const definitions = [...doc.matchAll(/^```json\n([\s\S]*?)^```$/gm)].map((m) => JSON.parse(m[1]) as unknown).filter((v) => typeof v === 'object' && v !== null && 'steps' in v);

describe('docs/objects.md', () => {
  it('has an example definition, and it is valid', () => {
    expect(definitions.length).toBeGreaterThanOrEqual(1);
    for (const definition of definitions) {
      const result = validateDefinition(definition, registry.catalog);
      expect(result.ok ? [] : result.problems).toEqual([]);
    }
  });

  it.each([
    ['inquiry', INQUIRY_FLOW],
    ['account', ACCOUNT_FLOW],
    ['case', CASE_FLOW],
    ['report/<type>', REPORT_FLOW],
  ] as [string, StatusFlow<string>][])('lists every %s status, verb and move event', (prefix, flow) => {
    for (const status of flow.statuses) expect(doc).toContain(`\`${status}\``);
    for (const verb of Object.keys(flow.verbs)) expect(doc).toMatch(new RegExp(`\`(POST /v1/\\w+/:id/)?${verb}\`|/${verb}\``));
    const movedInto = new Set(Object.values(flow.next).flat());
    for (const status of movedInto) expect(doc).toContain(`\`${prefix}.${flow.event[status]}\``);
  });

  it('documents every object action, list kind and report type', () => {
    const objectActions = ['approve_inquiry', 'decline_inquiry', 'mark_inquiry_for_review', 'create_inquiry', 'create_case', 'tag_object', 'add_list_item', 'trust_device', 'redact_object', 'load_object', 'check_lists'];
    for (const name of objectActions) {
      expect(registry.catalog.has(name)).toBe(true);
      expect(doc).toContain(`| \`${name}\` |`);
    }
    for (const kind of LIST_KINDS) expect(doc).toContain(`| \`${kind}\` |`);
    for (const type of REPORT_TYPES) expect(doc).toContain(`\`${type}\``);
  });
});
