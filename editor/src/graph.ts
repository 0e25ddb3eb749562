/**
 * The editor's model of a definition: the trigger, the main graph's steps
 * (each with a stable uid, so a step can be renamed), the links between them
 * as (from, outlet, to) triples, and where each node sits on the canvas.
 * `toDefinition` and `fromDefinition` are the only bridges to the JSON the
 * API stores; steps inside parallel branches and for_each loops stay inside
 * their step's JSON.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Obj = Record<string, any>;

export interface StepNode {
  uid: string;
  /** The step as stored, without its links (next, routes[].next, default, catch[].next). */
  step: Obj;
}

export interface Link {
  /** A step uid, or TRIGGER for the start link. */
  from: string;
  /** 'start' | 'next' | 'default' | 'route:<i>' | 'catch:<i>' */
  outlet: string;
  to: string;
}

export interface EditorGraph {
  trigger: Obj;
  steps: StepNode[];
  links: Link[];
  positions: Record<string, { x: number; y: number }>;
  /** Top-level fields the canvas does not edit (language, flow), kept as they are. */
  extra: Obj;
}

export const TRIGGER = 'trigger';

export const STEP_TYPES = ['action', 'condition', 'parallel', 'for_each', 'wait_for_event', 'wait_for_time', 'run_workflow', 'end'] as const;
export type StepType = (typeof STEP_TYPES)[number];

export const STEP_TYPE_TITLES: Record<StepType, string> = {
  action: 'Action',
  condition: 'Condition',
  parallel: 'Parallel',
  for_each: 'For each',
  wait_for_event: 'Wait for event',
  wait_for_time: 'Wait for time',
  run_workflow: 'Run workflow',
  end: 'End',
};

let counter = 0;
export function newUid(): string {
  counter += 1;
  return `n${Date.now().toString(36)}${counter}`;
}

export function emptyGraph(): EditorGraph {
  return { trigger: { type: 'event', event: '' }, steps: [], links: [], positions: { [TRIGGER]: { x: 0, y: 0 } }, extra: {} };
}

/** The outlets a step has, in the order they are drawn. */
export function outletsOf(step: Obj): { outlet: string; label: string }[] {
  const catches = Array.isArray(step.catch) ? step.catch.map((c: Obj, i: number) => ({ outlet: `catch:${i}`, label: `on error${c.errors ? ` (${c.errors.join(', ')})` : ''}` })) : [];
  switch (step.type as StepType) {
    case 'condition':
      return [...(step.routes ?? []).map((r: Obj, i: number) => ({ outlet: `route:${i}`, label: r.label || `route ${i + 1}` })), { outlet: 'default', label: 'otherwise' }];
    case 'end':
      return [];
    case 'wait_for_event':
    case 'wait_for_time':
      return [{ outlet: 'next', label: 'next' }];
    default:
      return [{ outlet: 'next', label: 'next' }, ...catches];
  }
}

export function linkFrom(graph: EditorGraph, from: string, outlet: string): Link | undefined {
  return graph.links.find((l) => l.from === from && l.outlet === outlet);
}

export function setLink(graph: EditorGraph, from: string, outlet: string, to: string | null): EditorGraph {
  const links = graph.links.filter((l) => !(l.from === from && l.outlet === outlet));
  if (to) links.push({ from, outlet, to });
  return { ...graph, links };
}

export function stepByUid(graph: EditorGraph, uid: string): StepNode | undefined {
  return graph.steps.find((s) => s.uid === uid);
}

export function uidOfStepId(graph: EditorGraph, id: string): string | undefined {
  return graph.steps.find((s) => s.step.id === id)?.uid;
}

/** A fresh id like `decline_inquiry`, `decline_inquiry_2`, unique across the whole definition. */
export function freshStepId(graph: EditorGraph, base: string): string {
  const taken = new Set<string>();
  for (const s of graph.steps) collectIds(s.step, taken);
  const clean = base.replace(/[^a-z0-9_]/g, '_').replace(/^[^a-z]+/, '') || 'step';
  if (!taken.has(clean)) return clean;
  for (let i = 2; ; i++) if (!taken.has(`${clean}_${i}`)) return `${clean}_${i}`;
}

function collectIds(step: Obj, into: Set<string>): void {
  if (typeof step.id === 'string') into.add(step.id);
  for (const b of step.branches ?? []) for (const s of b.steps ?? []) collectIds(s, into);
  for (const s of step.type === 'for_each' ? (step.steps ?? []) : []) collectIds(s, into);
}

/** Steps in the order they are written: the start step first, then breadth-first along the links, then the unreachable ones. */
export function orderedSteps(graph: EditorGraph): StepNode[] {
  const seen = new Set<string>();
  const out: StepNode[] = [];
  const start = linkFrom(graph, TRIGGER, 'start')?.to;
  const queue = start ? [start] : [];
  while (queue.length > 0) {
    const uid = queue.shift()!;
    if (seen.has(uid)) continue;
    const node = stepByUid(graph, uid);
    if (!node) continue;
    seen.add(uid);
    out.push(node);
    for (const { outlet } of outletsOf(node.step)) {
      const to = linkFrom(graph, uid, outlet)?.to;
      if (to && !seen.has(to)) queue.push(to);
    }
  }
  for (const s of graph.steps) if (!seen.has(s.uid)) out.push(s);
  return out;
}

/** The definition the API stores, and which step uid sits at each index of `steps` (for problem paths). */
export function toDefinition(graph: EditorGraph): { definition: Obj; uidAt: string[] } {
  const ordered = orderedSteps(graph);
  const idOf = (uid: string | undefined) => (uid ? stepByUid(graph, uid)?.step.id : undefined);
  const steps = ordered.map(({ uid, step }) => {
    const out: Obj = { ...step };
    const to = (outlet: string) => idOf(linkFrom(graph, uid, outlet)?.to);
    switch (step.type as StepType) {
      case 'condition':
        out.routes = (step.routes ?? []).map((r: Obj, i: number) => withoutUndefined({ ...r, next: to(`route:${i}`) ?? '' }));
        out.default = to('default');
        break;
      case 'end':
        break;
      default:
        out.next = to('next');
        if (Array.isArray(step.catch)) out.catch = step.catch.map((c: Obj, i: number) => withoutUndefined({ ...c, next: to(`catch:${i}`) ?? '' }));
    }
    return withoutUndefined(out);
  });
  const definition: Obj = { ...graph.extra, trigger: graph.trigger, steps };
  const start = linkFrom(graph, TRIGGER, 'start')?.to;
  // Written only when the start step is not the first one (it always is, unless nothing links from the trigger).
  if (start && ordered[0]?.uid !== start) definition.start = idOf(start);
  return { definition, uidAt: ordered.map((s) => s.uid) };
}

function withoutUndefined(o: Obj): Obj {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

export function fromDefinition(definition: Obj): EditorGraph {
  const { trigger, steps = [], start, ...extra } = definition ?? {};
  const graph: EditorGraph = { trigger: trigger ?? { type: 'api' }, steps: [], links: [], positions: {}, extra };
  const uidById = new Map<string, string>();
  for (const raw of steps as Obj[]) {
    const uid = newUid();
    uidById.set(raw.id, uid);
    const step: Obj = { ...raw };
    delete step.next;
    delete step.default;
    if (Array.isArray(step.routes)) step.routes = step.routes.map(({ next: _n, ...r }: Obj) => r);
    if (Array.isArray(step.catch)) step.catch = step.catch.map(({ next: _n, ...c }: Obj) => c);
    graph.steps.push({ uid, step });
  }
  const link = (from: string, outlet: string, id: unknown) => {
    const to = typeof id === 'string' ? uidById.get(id) : undefined;
    if (to) graph.links.push({ from, outlet, to });
  };
  link(TRIGGER, 'start', start ?? steps[0]?.id);
  for (const raw of steps as Obj[]) {
    const uid = uidById.get(raw.id)!;
    link(uid, 'next', raw.next);
    link(uid, 'default', raw.default);
    (raw.routes ?? []).forEach((r: Obj, i: number) => link(uid, `route:${i}`, r.next));
    (raw.catch ?? []).forEach((c: Obj, i: number) => link(uid, `catch:${i}`, c.next));
  }
  return graph;
}

export function removeStep(graph: EditorGraph, uid: string): EditorGraph {
  const positions = { ...graph.positions };
  delete positions[uid];
  return { ...graph, steps: graph.steps.filter((s) => s.uid !== uid), links: graph.links.filter((l) => l.from !== uid && l.to !== uid), positions };
}

/** Remove route i of a condition, shifting the links of the routes after it. */
export function removeRoute(graph: EditorGraph, uid: string, index: number): EditorGraph {
  const steps = graph.steps.map((s) => (s.uid === uid ? { ...s, step: { ...s.step, routes: s.step.routes.filter((_: unknown, i: number) => i !== index) } } : s));
  const links: Link[] = [];
  for (const l of graph.links) {
    const m = l.from === uid ? /^route:(\d+)$/.exec(l.outlet) : null;
    if (!m) links.push(l);
    else if (Number(m[1]) < index) links.push(l);
    else if (Number(m[1]) > index) links.push({ ...l, outlet: `route:${Number(m[1]) - 1}` });
  }
  return { ...graph, steps, links };
}

export function updateStep(graph: EditorGraph, uid: string, change: (step: Obj) => Obj): EditorGraph {
  return { ...graph, steps: graph.steps.map((s) => (s.uid === uid ? { ...s, step: change(s.step) } : s)) };
}

/** Rename a step and the `steps.<old>` references to it in every expression and template. */
export function renameStep(graph: EditorGraph, uid: string, newId: string): EditorGraph {
  const oldId = stepByUid(graph, uid)?.step.id;
  if (!oldId || oldId === newId) return graph;
  const pattern = new RegExp(`\\bsteps\\.${oldId}\\b`, 'g');
  const rewrite = (v: any): any => {
    if (typeof v === 'string') return v.replace(pattern, `steps.${newId}`);
    if (Array.isArray(v)) return v.map(rewrite);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, rewrite(x)]));
    return v;
  };
  return {
    ...graph,
    steps: graph.steps.map((s) => {
      const step = rewrite(s.step);
      return { ...s, step: s.uid === uid ? { ...step, id: newId } : step };
    }),
  };
}

/** Step uids from which `uid` can be reached: the steps whose results a step may read. */
export function ancestorsOf(graph: EditorGraph, uid: string): string[] {
  const seen = new Set<string>();
  const stack = [uid];
  while (stack.length > 0) {
    const current = stack.pop()!;
    for (const l of graph.links) {
      if (l.to === current && l.from !== TRIGGER && !seen.has(l.from)) {
        seen.add(l.from);
        stack.push(l.from);
      }
    }
  }
  seen.delete(uid);
  return orderedSteps(graph).map((s) => s.uid).filter((u) => seen.has(u));
}
