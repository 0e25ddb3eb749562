/**
 * The attribute picker's offer: the run data a step can read at its place in
 * the graph (trigger fields, earlier steps' outputs, variables, the run), so
 * nobody has to remember paths.
 */
import type { ActionInfo } from './api';
import { ancestorsOf, stepByUid, type EditorGraph, type Obj } from './graph';

export interface Attribute {
  path: string;
  group: string;
  hint?: string;
}

export const EVENT_TYPES = [
  'inquiry.created', 'inquiry.pending', 'inquiry.completed', 'inquiry.failed', 'inquiry.expired', 'inquiry.approved', 'inquiry.declined',
  'inquiry.marked-for-review', 'inquiry.updated', 'inquiry.redacted', 'inquiry.tag-added', 'inquiry.tag-removed',
  'case.created', 'case.opened', 'case.pending', 'case.resolved', 'case.updated', 'case.tag-added', 'case.tag-removed',
  'account.created', 'account.updated', 'account.suspended', 'account.reactivated', 'account.closed', 'account.redacted', 'account.tag-added', 'account.tag-removed',
  'report/watchlist.ready', 'report/watchlist.matched', 'report/pep.ready', 'report/adverse-media.ready', 'report/email-risk.ready', 'report/phone-risk.ready',
  'list.created', 'list.updated', 'list.item-added', 'list.item-removed',
  'device.created', 'device.updated', 'device.trusted', 'device.untrusted',
];

const PERSON_FIELDS = ['name_first', 'name_last', 'birthdate', 'email', 'phone', 'country', 'id_number', 'address.country'];

/** What the object of an event of this type looks like. */
function objectFields(eventType: string): string[] {
  const kind = eventType.split(/[./]/)[0];
  const common = ['id', 'status', 'tags', 'createdAt'];
  switch (kind) {
    case 'inquiry':
      return [...common, 'template', 'accountId', ...PERSON_FIELDS.map((f) => `fields.${f}`), 'scores'];
    case 'account':
      return [...common, 'referenceId', ...PERSON_FIELDS.map((f) => `fields.${f}`)];
    case 'case':
      return [...common, 'resolution', 'assignee', 'priority', 'links', 'title'];
    case 'report':
      return [...common, 'kind', 'hasMatch', 'matches'];
    default:
      return common;
  }
}

const EVENT_FIELDS = ['id', 'type', 'objectId', 'objectType', 'data', 'occurredAt'];

/** Top-level keys of "Output: {a, b: ..., c}" in an action's description. */
export function outputFieldsOf(action: ActionInfo | undefined): string[] {
  const text = action?.description ?? '';
  const at = text.indexOf('Output:');
  const open = at < 0 ? -1 : text.indexOf('{', at);
  if (open < 0 || open - at > 40) return [];
  const pieces: string[] = [];
  let depth = 0;
  let piece = '';
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if ('{[('.includes(c)) depth++;
    if ('}])'.includes(c)) depth--;
    if (depth === 0) break;
    if (depth === 1 && c === ',') {
      pieces.push(piece);
      piece = '';
    } else if (!(depth === 1 && c === '{')) piece += c;
  }
  pieces.push(piece);
  const fields = pieces.map((p) => /^\s*([A-Za-z_]\w*)/.exec(p)?.[1]).filter((f): f is string => !!f);
  return [...new Set(fields)];
}

function stepOutputs(step: Obj, actions: Map<string, ActionInfo>): string[] {
  switch (step.type) {
    case 'condition':
      return ['route', 'label', 'next'];
    case 'wait_for_event':
      return ['timedOut', 'event.data', 'event.objectId', 'event.type', 'event.id', 'event.occurredAt'];
    case 'wait_for_time':
      return ['until'];
    case 'run_workflow':
      return step.wait === false ? ['runId', 'workflowId', 'version'] : ['runId', 'outcome', 'reason', 'output'];
    case 'parallel':
      return ['branches'];
    case 'for_each':
      return ['results', 'errors', 'count', 'failed'];
    case 'action':
      return outputFieldsOf(actions.get(step.action));
    default:
      return [];
  }
}

/** Paths for an event trigger's filter: only `event` and `object`. */
export function filterAttributes(trigger: Obj): Attribute[] {
  return [
    ...EVENT_FIELDS.map((f) => ({ path: `event.${f}`, group: 'Event' })),
    ...objectFields(trigger.event ?? '').map((f) => ({ path: `object.${f}`, group: 'Object' })),
  ];
}

export function triggerAttributes(trigger: Obj): Attribute[] {
  switch (trigger.type) {
    case 'event':
      return [
        ...objectFields(trigger.event ?? '').map((f) => ({ path: `trigger.object.${f}`, group: 'Trigger object' })),
        ...EVENT_FIELDS.map((f) => ({ path: `trigger.event.${f}`, group: 'Trigger event' })),
      ];
    case 'api':
      return Object.keys(trigger.inputSchema?.properties ?? {}).map((k) => ({ path: `trigger.${k}`, group: 'Trigger input', hint: trigger.inputSchema.properties[k]?.type }));
    case 'schedule':
      return Object.keys(trigger.input ?? {}).map((k) => ({ path: `trigger.${k}`, group: 'Schedule input' }));
    default:
      return [];
  }
}

/** Everything a step (or, with no uid, the whole graph) may read. */
export function attributesFor(graph: EditorGraph, uid: string | null, actions: Map<string, ActionInfo>): Attribute[] {
  const out = triggerAttributes(graph.trigger);
  const earlier = uid ? ancestorsOf(graph, uid) : graph.steps.map((s) => s.uid);
  for (const e of earlier) {
    const step = stepByUid(graph, e)?.step;
    if (!step?.id) continue;
    const group = `Step ${step.id}`;
    out.push({ path: `steps.${step.id}.output`, group });
    for (const f of stepOutputs(step, actions)) out.push({ path: `steps.${step.id}.output.${f}`, group });
    if (step.type === 'action' && step.action === 'set_variables') {
      for (const name of Object.keys(step.params?.variables ?? {})) out.push({ path: `vars.${name}`, group: 'Variables' });
    }
  }
  out.push({ path: 'run.id', group: 'Run' }, { path: 'run.startedAt', group: 'Run' }, { path: 'run.workflowId', group: 'Run' }, { path: 'now', group: 'Run' });
  return out;
}
