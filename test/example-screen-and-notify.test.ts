/**
 * examples/screen-and-notify.json is a definition the service accepts: it
 * validates against the real action catalog (evaluate_code, run_report,
 * send_email), and its credential placeholder has the shape of a credential
 * id, so swapping in a real id is the only edit a user needs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRegistry } from '../src/activities';
import { CREDENTIAL_ID_PATTERN } from '../src/credentials/store';
import { validateDefinition } from '../src/interpreter/validate';

const example = JSON.parse(readFileSync(join(__dirname, '..', 'examples', 'screen-and-notify.json'), 'utf8'));
// Building the catalog touches no database: the actions only keep their dependencies.
const catalog = createRegistry({ db: undefined as never }).catalog;

describe('examples/screen-and-notify.json', () => {
  it('is a valid definition', () => {
    const result = validateDefinition(example.definition, catalog);
    expect(result.ok ? [] : result.problems).toEqual([]);
  });

  it('uses Evaluate Code, a watchlist report and an email, with a well-formed credential placeholder', () => {
    const steps = example.definition.steps as Array<{ action?: string; params?: Record<string, unknown> }>;
    expect(steps.map((s) => s.action).filter(Boolean)).toEqual(['evaluate_code', 'run_report', 'send_email']);
    expect(steps.find((s) => s.action === 'run_report')!.params!.type).toBe('watchlist');
    const credential = steps.find((s) => s.action === 'send_email')!.params!.credential as string;
    expect(credential).toBe('cred_replacewithyoursmtp');
    expect(credential).toMatch(CREDENTIAL_ID_PATTERN);
    expect(example.description).toContain(credential);
  });

  it('is refused when a step names an action the catalog does not have', () => {
    const broken = structuredClone(example.definition);
    broken.steps[1].action = 'run_reprot';
    const result = validateDefinition(broken, catalog);
    expect(result.ok ? [] : result.problems.map((p) => p.path)).toEqual(['/steps/1/action']);
  });
});
