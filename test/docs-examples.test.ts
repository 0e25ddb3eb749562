/**
 * The examples in docs/definitions.md must stay true: every ```json block
 * that is a complete definition (a top-level "trigger" and "steps") has to
 * pass the validator the API uses when a definition is saved, with the
 * actions that exist. Blocks that show a problem or an error response are
 * fenced as ```jsonc or ```text, so they are not picked up here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ActionRegistry } from '../src/activities/registry';
import { validateDefinition } from '../src/interpreter/validate';

const DOC_PATH = join(__dirname, '..', 'docs', 'definitions.md');

interface JsonBlock {
  /** 1-based line of the opening fence, for messages. */
  line: number;
  source: string;
}

/** Every ```json fenced block (not ```jsonc), in document order; indented fences included. */
function jsonBlocks(markdown: string): JsonBlock[] {
  const lines = markdown.split(/\r?\n/);
  const blocks: JsonBlock[] = [];
  let open: { line: number; indent: string; body: string[] } | undefined;
  let inOtherFence = false;
  lines.forEach((text, index) => {
    if (open) {
      if (text.trim() === '```') {
        blocks.push({ line: open.line, source: open.body.join('\n') });
        open = undefined;
      } else {
        open.body.push(text.startsWith(open.indent) ? text.slice(open.indent.length) : text);
      }
      return;
    }
    const fence = /^(\s*)```(\S*)\s*$/.exec(text);
    if (!fence) return;
    if (inOtherFence) {
      if (fence[2] === '') inOtherFence = false;
      return;
    }
    if (fence[2] === 'json') open = { line: index + 1, indent: fence[1], body: [] };
    else inOtherFence = true;
  });
  if (open) throw new Error(`docs/definitions.md: the json block at line ${open.line} is never closed`);
  return blocks;
}

function isDefinition(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'trigger' in value && 'steps' in value;
}

const markdown = readFileSync(DOC_PATH, 'utf8');
const blocks = jsonBlocks(markdown);
const parsed = blocks.map((block) => {
  try {
    return { ...block, value: JSON.parse(block.source) as unknown, error: undefined };
  } catch (err) {
    return { ...block, value: undefined, error: (err as Error).message };
  }
});
const definitions = parsed.filter((b) => isDefinition(b.value));
const catalog = new ActionRegistry().catalog;

describe('docs/definitions.md', () => {
  it('has only ```json blocks that are valid JSON (use ```jsonc or ```text for anything else)', () => {
    const broken = parsed.filter((b) => b.error !== undefined).map((b) => `line ${b.line}: ${b.error}`);
    expect(broken).toEqual([]);
  });

  it('has at least 4 complete example definitions', () => {
    expect(definitions.length).toBeGreaterThanOrEqual(4);
  });

  it.each(definitions.map((d) => [`the definition at line ${d.line}`, d] as const))('%s is valid', (_name, block) => {
    const result = validateDefinition(block.value, catalog);
    const problems = result.ok ? [] : result.problems.map((p) => `${p.code} at ${p.path}${p.stepId ? ` (step ${p.stepId})` : ''}: ${p.message}`);
    expect(problems).toEqual([]);
  });
});
