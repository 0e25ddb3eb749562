/**
 * Liquid text templates (email bodies, messages, HTTP bodies, end reasons).
 *
 * Templates are parsed once and cached. Rendering is synchronous and pure, so
 * it runs inside workflow code; `liquidjs` resolves to its browser build in
 * the workflow bundle, which has no file system access.
 */
import { Liquid, type Template } from 'liquidjs';

const engine = new Liquid({
  strictFilters: true,
  // No includes/layouts: a definition is self-contained.
  relativeReference: false,
  jsTruthy: false,
  ownPropertyOnly: true,
});

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

/** A string is a template when it has Liquid markup in it. */
export function isLiquidTemplate(text: string): boolean {
  return text.includes('{{') || text.includes('{%');
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0].trim();
}

export function compileLiquid(source: string): Template[] {
  const hit = cache.get(source);
  if (hit) return hit;
  let templates: Template[];
  try {
    templates = engine.parse(source);
  } catch (err) {
    throw new LiquidSyntaxError(source, firstLine(err));
  }
  if (cache.size > 5000) cache.clear();
  cache.set(source, templates);
  return templates;
}

export function renderLiquid(source: string, data: Record<string, unknown>): string {
  const templates = compileLiquid(source);
  try {
    return engine.renderSync(templates, data) as string;
  } catch (err) {
    throw new LiquidRenderError(source, firstLine(err));
  }
}

/** Step ids a template reads as `steps.x...`. */
export function liquidStepReferences(source: string): Set<string> {
  const steps = new Set<string>();
  const templates = compileLiquid(source);
  // Segments, not variables: `variablesSync` gives only the root name (`steps`).
  // Global only, so a template's own `{% assign %}` or loop variable is not a step.
  for (const segments of engine.globalVariableSegmentsSync(templates)) {
    if (segments[0] === 'steps' && typeof segments[1] === 'string') steps.add(segments[1]);
  }
  return steps;
}
