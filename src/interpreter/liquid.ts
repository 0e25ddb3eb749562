/**
 * Liquid text templates (email bodies, messages, HTTP bodies, end reasons).
 *
 * Templates are parsed once and cached. Rendering is synchronous and pure, so
 * it runs inside workflow code; `liquidjs` resolves to its browser build in
 * the workflow bundle, which has no file system access.
 *
 * Limits (liquidjs's own DoS guards), so a template cannot make workflow code
 * build a huge value or spin:
 * - parse: a template is at most LIQUID_LIMITS.parseChars characters;
 * - memory: ranges, joins, padding, JSON and the like charge what they
 *   allocate against LIQUID_LIMITS.memoryUnits per render, so
 *   `{% for i in (1..100000000) %}` fails before it builds the array.
 *   The count is of work done, not of time: the same template on the same
 *   data trips it on every replay;
 * - render time: LIQUID_LIMITS.renderMs per render, a last resort. Inside
 *   the workflow sandbox the clock stands still while workflow code runs,
 *   so it never trips there (replays stay deterministic); the memory limit
 *   is what holds there.
 * Going over one of them is a LiquidLimitError (a LiquidRenderError).
 *
 * HTML contexts (an email's `html` body) render with every output escaped
 * (`outputEscape: 'escape'`): `{{ trigger.name }}` holding `<i>VIP</i> & co`
 * becomes `&lt;i&gt;VIP&lt;/i&gt; &amp; co`. `{{ value | raw }}` is the
 * explicit way out for markup the author means to insert.
 */
import { Liquid, type Template } from 'liquidjs';

export const LIQUID_LIMITS = {
  /** Characters in one template. */
  parseChars: 100_000,
  /** Allocation units (characters, array elements) one render may charge. */
  memoryUnits: 200_000,
  /** Wall-clock milliseconds one render may take (outside the workflow sandbox). */
  renderMs: 1_000,
} as const;

function makeEngine(html: boolean): Liquid {
  return new Liquid({
    strictFilters: true,
    // No includes/layouts: a definition is self-contained.
    relativeReference: false,
    jsTruthy: false,
    ownPropertyOnly: true,
    parseLimit: LIQUID_LIMITS.parseChars,
    memoryLimit: LIQUID_LIMITS.memoryUnits,
    renderLimit: LIQUID_LIMITS.renderMs,
    ...(html ? { outputEscape: 'escape' as const } : {}),
  });
}

const engines = { text: makeEngine(false), html: makeEngine(true) };

/** Where a template's output goes: plain text, or HTML (outputs escaped unless `| raw`). */
export type LiquidContext = keyof typeof engines;

const cache = new Map<string, Template[]>();

export class LiquidSyntaxError extends Error {
  constructor(
    readonly source: string,
    message: string,
  ) {
    super(message);
    this.name = 'LiquidSyntaxError';
  }
}

export class LiquidRenderError extends Error {
  constructor(
    readonly source: string,
    message: string,
  ) {
    super(message);
    this.name = 'LiquidRenderError';
  }
}

/** A render went over one of LIQUID_LIMITS (memory or time). */
export class LiquidLimitError extends LiquidRenderError {
  constructor(source: string, message: string) {
    super(source, message);
    this.name = 'LiquidLimitError';
  }
}

/** A string is a template when it has Liquid markup in it. */
export function isLiquidTemplate(text: string): boolean {
  return text.includes('{{') || text.includes('{%');
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0].trim();
}

const LIMIT_MESSAGE = /(parse length|memory alloc|template render) limit exceeded/;

function limitMessage(message: string): string | undefined {
  const match = LIMIT_MESSAGE.exec(message);
  if (!match) return undefined;
  switch (match[1]) {
    case 'parse length':
      return `the template is longer than ${LIQUID_LIMITS.parseChars} characters`;
    case 'memory alloc':
      return `the template builds more than ${LIQUID_LIMITS.memoryUnits} characters or elements (memory limit exceeded)`;
    default:
      return `the template took longer than ${LIQUID_LIMITS.renderMs} ms to render (render limit exceeded)`;
  }
}

/**
 * Parse once per context (liquidjs adds the HTML escape to each output when
 * it parses). Too long a template is a LiquidSyntaxError, so a definition
 * holding one is refused when saved.
 */
export function compileLiquid(source: string, context: LiquidContext = 'text'): Template[] {
  const cacheKey = context === 'text' ? source : `html\u0000${source}`;
  const hit = cache.get(cacheKey);
  if (hit) return hit;
  if (source.length > LIQUID_LIMITS.parseChars) {
    throw new LiquidSyntaxError(source, `the template is longer than ${LIQUID_LIMITS.parseChars} characters`);
  }
  let templates: Template[];
  try {
    templates = engines[context].parse(source);
  } catch (err) {
    const message = firstLine(err);
    throw new LiquidSyntaxError(source, limitMessage(message) ?? message);
  }
  if (cache.size > 5000) cache.clear();
  cache.set(cacheKey, templates);
  return templates;
}

export function renderLiquid(source: string, data: Record<string, unknown>, context: LiquidContext = 'text'): string {
  const templates = compileLiquid(source, context);
  try {
    return engines[context].renderSync(templates, data) as string;
  } catch (err) {
    const message = firstLine(err);
    const limit = limitMessage(message);
    if (limit) throw new LiquidLimitError(source, limit);
    throw new LiquidRenderError(source, message);
  }
}

/** Step ids a template reads as `steps.x...`. */
export function liquidStepReferences(source: string): Set<string> {
  const steps = new Set<string>();
  const templates = compileLiquid(source);
  // Segments, not variables: `variablesSync` gives only the root name (`steps`).
  // Global only, so a template's own `{% assign %}` or loop variable is not a step.
  for (const segments of engines.text.globalVariableSegmentsSync(templates)) {
    if (segments[0] === 'steps' && typeof segments[1] === 'string') steps.add(segments[1]);
  }
  return steps;
}

/**
 * Action parameters whose text is HTML: Liquid output placed in them is
 * escaped. Keyed by action name; each entry is a top-level parameter.
 */
export const HTML_TEMPLATE_PARAMS: Readonly<Record<string, readonly string[]>> = {
  send_email: ['html'],
  send_inquiry_link_email: ['html'],
};

/** The HTML parameters of an action (none for most). */
export function htmlTemplateParams(action: string): readonly string[] {
  return Object.hasOwn(HTML_TEMPLATE_PARAMS, action) ? HTML_TEMPLATE_PARAMS[action] : [];
}
