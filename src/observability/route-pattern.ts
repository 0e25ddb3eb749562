/**
 * The route pattern a request matched (`/v1/lists/:id/items/:value`), noted
 * by the access guard, for the request log: the concrete path can hold
 * personal data (a list item's e-mail) and never goes into a log.
 */
const PATTERNS = new WeakMap<object, string>();

export function noteRoutePattern(req: object, pattern: string): void {
  PATTERNS.set(req, pattern);
}

/** The matched pattern, or undefined when no route matched. */
export function routePatternOf(req: object): string | undefined {
  return PATTERNS.get(req);
}

/** What the log says for a request no route answered. */
export const UNMATCHED = '[unmatched]';
