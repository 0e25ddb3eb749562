/**
 * The side panel: the trigger's settings, and a selected step's settings
 * generated from its type (and, for actions, from the action's parameter
 * schema), with the links to the next steps as choices.
 */
import { useEffect, useId, useState } from 'react';
import type { ActionInfo, ProblemDetail } from './api';
import { EVENT_TYPES, filterAttributes, type Attribute } from './attributes';
import { AttributePicker as PickerButton, ConditionEditor, JsonField, MapEditor, ParamsForm, SelectField, TextField, ValueInput, humanize, type Pickers } from './fields';
import { linkFrom, outletsOf, removeRoute, renameStep, setLink, stepByUid, STEP_TYPE_TITLES, updateStep, type EditorGraph, type Obj, type StepType } from './graph';

export type Commit = (graph: EditorGraph, coalesce?: string) => void;

function Problems({ problems }: { problems: ProblemDetail[] }) {
  if (problems.length === 0) return null;
  return (
    <div className="problems" role="alert" aria-label="Problems in this step">
      <strong>{problems.length === 1 ? '1 problem' : `${problems.length} problems`}</strong>
      <ul>
        {problems.map((p, i) => (
          <li key={i}>
            <span className="mono">{p.path}</span>: {p.message}
          </li>
        ))}
      </ul>
    </div>
  );
}

function NextSelect({ graph, uid, outlet, label, commit }: { graph: EditorGraph; uid: string; outlet: string; label: string; commit: Commit }) {
  const id = useId();
  const current = linkFrom(graph, uid, outlet)?.to ?? '';
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={current} onChange={(e) => commit(setLink(graph, uid, outlet, e.target.value || null))}>
        <option value="">{outlet === 'next' || outlet === 'start' ? '(nothing: the run ends here)' : '— choose a step —'}</option>
        {graph.steps
          .filter((s) => s.uid !== uid || outlet !== 'start')
          .map((s) => (
            <option key={s.uid} value={s.uid}>
              {s.step.id}
              {s.step.name ? ` — ${s.step.name}` : ''}
            </option>
          ))}
      </select>
    </div>
  );
}

/** An id is edited as text and applied on leaving the field, so references are renamed once. */
function StepIdField({ graph, uid, commit }: { graph: EditorGraph; uid: string; commit: Commit }) {
  const stepId = stepByUid(graph, uid)?.step.id ?? '';
  const [text, setText] = useState(stepId);
  useEffect(() => setText(stepId), [stepId, uid]);
  const valid = /^[a-z][a-z0-9_]{0,63}$/.test(text);
  return (
    <TextField
      label="Step id"
      mono
      value={text}
      onChange={setText}
      onBlur={() => valid && text !== stepId && commit(renameStep(graph, uid, text))}
      help={valid ? 'Other steps read this step as steps.' + text : 'snake_case: a lowercase letter, then lowercase letters, digits or _'}
    />
  );
}

export function StepPanel({
  graph,
  uid,
  actions,
  pickers,
  problems,
  commit,
  onDelete,
}: {
  graph: EditorGraph;
  uid: string;
  actions: Map<string, ActionInfo>;
  pickers: Pickers;
  problems: ProblemDetail[];
  commit: Commit;
  onDelete: () => void;
}) {
  const node = stepByUid(graph, uid);
  if (!node) return null;
  const step = node.step;
  const set = (patch: Obj, key: string) =>
    commit(
      updateStep(graph, uid, (s) => {
        const next = { ...s, ...patch };
        for (const k of Object.keys(patch)) if (patch[k] === undefined || patch[k] === '') delete next[k];
        return next;
      }),
      `${uid}:${key}`,
    );
  const action = step.type === 'action' ? actions.get(step.action) : undefined;
  return (
    <section className="panel" aria-label={`Step ${step.id}`}>
      <header className="panel-header">
        <h2>{STEP_TYPE_TITLES[step.type as StepType] ?? step.type}{action ? `: ${action.title}` : ''}</h2>
        <button type="button" className="danger" onClick={onDelete}>
          Delete step
        </button>
      </header>
      {action && <p className="help">{action.description}</p>}
      <Problems problems={problems} />
      <StepIdField graph={graph} uid={uid} commit={commit} />
      <TextField label="Name" value={step.name ?? ''} onChange={(v) => set({ name: v }, 'name')} placeholder="a label for people (optional)" />
      {step.type === 'action' && (
        <>
          <SelectField label="Action" value={step.action} onChange={(v) => set({ action: v, params: {} }, 'action')} options={[...actions.values()].map((a) => ({ value: a.name, label: `${a.title} (${a.name})` }))} />
          <ParamsForm schema={action?.params} params={step.params ?? {}} pickers={pickers} onChange={(p) => set({ params: Object.keys(p).length ? p : undefined }, 'params')} />
          <details>
            <summary>Timeouts and retries</summary>
            <TextField label="Timeout (one attempt)" value={step.timeout ?? ''} onChange={(v) => set({ timeout: v }, 'timeout')} placeholder="e.g. 30s" />
            <TextField label="Deadline (all attempts)" value={step.deadline ?? ''} onChange={(v) => set({ deadline: v }, 'deadline')} placeholder="e.g. 1h" />
            <JsonField label="Retry policy (JSON)" value={step.retry} onChange={(v) => set({ retry: v }, 'retry')} rows={3} />
          </details>
        </>
      )}
      {step.type === 'condition' && (
        <>
          {(step.routes ?? []).map((route: Obj, i: number) => (
            <fieldset key={i} className="route">
              <legend>Route {i + 1}</legend>
              <TextField label={`Route ${i + 1} label`} value={route.label ?? ''} onChange={(v) => commit(updateStep(graph, uid, (s) => ({ ...s, routes: s.routes.map((r: Obj, j: number) => (j === i ? withField(r, 'label', v) : r)) })), `${uid}:route${i}:label`)} />
              <ConditionEditor
                label={`Route ${i + 1} condition`}
                value={route.when ?? ''}
                attributes={pickers.attributes}
                onChange={(v) => commit(updateStep(graph, uid, (s) => ({ ...s, routes: s.routes.map((r: Obj, j: number) => (j === i ? { ...r, when: v } : r)) })), `${uid}:route${i}:when`)}
              />
              <NextSelect graph={graph} uid={uid} outlet={`route:${i}`} label={`Route ${i + 1}: then go to`} commit={commit} />
              <button type="button" className="link-button" onClick={() => commit(removeRoute(graph, uid, i))} disabled={step.routes.length <= 1}>
                Remove route {i + 1}
              </button>
            </fieldset>
          ))}
          <button type="button" onClick={() => commit(updateStep(graph, uid, (s) => ({ ...s, routes: [...(s.routes ?? []), { when: '' }] })))}>
            Add route
          </button>
          <NextSelect graph={graph} uid={uid} outlet="default" label="Otherwise go to" commit={commit} />
        </>
      )}
      {step.type === 'wait_for_event' && (
        <>
          <EventTypesField value={step.events ?? []} onChange={(v) => set({ events: v }, 'events')} />
          <ValueInputCel label="Object id (CEL)" value={step.object ?? ''} attributes={pickers.attributes} onChange={(v) => set({ object: v }, 'object')} help="The event must be about this object, e.g. steps.open_case.output.id" />
          <ConditionEditor label="Also match" value={step.match ?? ''} attributes={[...pickers.attributes, ...['event.data', 'event.type', 'event.objectId'].map((p) => ({ path: p, group: 'Candidate event' }))]} onChange={(v) => set({ match: v }, 'match')} />
          <TextField label="Default resolution time" value={step.timeout ?? ''} onChange={(v) => set({ timeout: v }, 'timeout')} placeholder="e.g. 3d (at most 30d)" />
          <SelectField label="When the time passes" value={step.onTimeout ?? ''} onChange={(v) => set({ onTimeout: v }, 'onTimeout')} options={[{ value: '', label: 'continue (default)' }, { value: 'continue', label: 'continue' }, { value: 'fail', label: 'fail the step' }]} />
          <SelectField label="Events that count" value={step.since ?? ''} onChange={(v) => set({ since: v }, 'since')} options={[{ value: '', label: 'since the run began (default)' }, { value: 'run_start', label: 'since the run began' }, { value: 'wait_start', label: 'only after this wait begins' }]} />
        </>
      )}
      {step.type === 'wait_for_time' && (
        <>
          <TextField label="Duration" value={step.duration ?? ''} onChange={(v) => set({ duration: v }, 'duration')} placeholder="e.g. 1d" help="Or leave empty and give Until" />
          <ValueInputCel label="Until (CEL timestamp)" value={step.until ?? ''} attributes={pickers.attributes} onChange={(v) => set({ until: v }, 'until')} />
        </>
      )}
      {step.type === 'run_workflow' && (
        <>
          <SelectField label="Workflow to run" value={step.workflow ?? ''} onChange={(v) => set({ workflow: v }, 'workflow')} options={[{ value: '', label: '— choose —' }, ...pickers.workflows.map((w) => ({ value: w.id, label: `${w.name} (${w.id})` }))]} />
          <MapEditor label="Input" value={step.input} pickers={pickers} onChange={(v) => set({ input: v }, 'input')} />
          <SelectField label="Wait for it to finish" value={step.wait === false ? 'false' : 'true'} onChange={(v) => set({ wait: v === 'false' ? false : undefined }, 'wait')} options={[{ value: 'true', label: 'yes, and take its output' }, { value: 'false', label: 'no, start it and go on' }]} />
        </>
      )}
      {step.type === 'end' && (
        <>
          <SelectField label="Outcome" value={step.outcome ?? ''} onChange={(v) => set({ outcome: v }, 'outcome')} options={[{ value: '', label: 'succeeded (default)' }, { value: 'succeeded', label: 'succeeded' }, { value: 'failed', label: 'failed' }]} />
          <ValueInput label="Reason" value={step.reason} pickers={pickers} onChange={(v) => set({ reason: typeof v === 'string' ? v : undefined }, 'reason')} help="Text; {{ … }} inserts run data" />
          <MapEditor label="Output" value={step.output} pickers={pickers} onChange={(v) => set({ output: v }, 'output')} />
        </>
      )}
      {step.type === 'for_each' && (
        <>
          <ValueInputCel label="Items (CEL list)" value={step.items ?? ''} attributes={pickers.attributes} onChange={(v) => set({ items: v }, 'items')} />
          <TextField label="Name of each item" value={step.as ?? ''} onChange={(v) => set({ as: v }, 'as')} placeholder="item" />
          <TextField label="At once (concurrency)" value={String(step.concurrency ?? '')} onChange={(v) => set({ concurrency: /^\d+$/.test(v) ? Number(v) : v }, 'concurrency')} />
          <JsonField label="Steps for each item (JSON)" value={step.steps} onChange={(v) => set({ steps: v }, 'steps')} rows={8} />
        </>
      )}
      {step.type === 'parallel' && <JsonField label="Branches (JSON)" value={step.branches} onChange={(v) => set({ branches: v }, 'branches')} rows={12} />}
      {step.type !== 'condition' &&
        outletsOf(step).map((o) => <NextSelect key={o.outlet} graph={graph} uid={uid} outlet={o.outlet} label={o.outlet === 'next' ? 'Then go to' : `${humanize(o.label)}: go to`} commit={commit} />)}
      {['action', 'parallel', 'for_each', 'run_workflow'].includes(step.type) && (
        <details>
          <summary>On error</summary>
          <JsonField label="Catch routes (JSON, without next)" value={step.catch} onChange={(v) => set({ catch: v }, 'catch')} rows={3} />
        </details>
      )}
    </section>
  );
}

function withField(o: Obj, key: string, value: string): Obj {
  const next = { ...o, [key]: value };
  if (value === '') delete next[key];
  return next;
}

/** A plain CEL string field (not a value), with the attribute picker. */
function ValueInputCel({ label, value, onChange, attributes, help }: { label: string; value: string; onChange: (v: string) => void; attributes: Attribute[]; help?: string }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <div className="value-row">
        <input id={id} className="mono" value={value} onChange={(e) => onChange(e.target.value)} />
        <PickerButton label={label} attributes={attributes} onPick={(p) => onChange(value ? `${value} ${p}` : p)} />
      </div>
      {help && <div className="help">{help}</div>}
    </div>
  );
}


export function EventTypesField({ value, onChange }: { value: string[]; onChange: (v: string[] | undefined) => void }) {
  const [text, setText] = useState('');
  const id = useId();
  const add = () => {
    const t = text.trim();
    if (t && !value.includes(t)) onChange([...value, t]);
    setText('');
  };
  return (
    <div className="field">
      <label htmlFor={id}>Event types</label>
      <ul className="chips" aria-label="Chosen event types">
        {value.map((t) => (
          <li key={t} className="chip">
            <span className="mono">{t}</span>
            <button type="button" className="icon-button" aria-label={`Remove ${t}`} onClick={() => onChange(value.filter((x) => x !== t).length ? value.filter((x) => x !== t) : undefined)}>
              ×
            </button>
          </li>
        ))}
      </ul>
      <div className="value-row">
        <input id={id} list={`${id}-types`} className="mono" value={text} placeholder="e.g. case.resolved" onChange={(e) => setText(e.target.value)} onKeyDown={(e) => e.key === 'Enter' && (e.preventDefault(), add())} />
        <datalist id={`${id}-types`}>
          {EVENT_TYPES.map((t) => (
            <option key={t} value={t} />
          ))}
        </datalist>
        <button type="button" onClick={add} disabled={!text.trim()}>
          Add event type
        </button>
      </div>
    </div>
  );
}

// ---------- the trigger ----------

const FIELD_TYPES = ['string', 'number', 'integer', 'boolean', 'object', 'array'];

export function TriggerPanel({ graph, problems, commit }: { graph: EditorGraph; problems: ProblemDetail[]; commit: Commit }) {
  const trigger = graph.trigger;
  const set = (next: Obj, key: string) => commit({ ...graph, trigger: next }, `trigger:${key}`);
  const eventId = useId();
  return (
    <section className="panel" aria-label="Trigger">
      <header className="panel-header">
        <h2>Trigger</h2>
      </header>
      <Problems problems={problems} />
      <fieldset className="radio-row">
        <legend>What starts a run</legend>
        {[
          { value: 'event', label: 'An event' },
          { value: 'api', label: 'An API call' },
          { value: 'schedule', label: 'A schedule' },
        ].map((o) => (
          <label key={o.value}>
            <input
              type="radio"
              name="trigger-type"
              value={o.value}
              checked={trigger.type === o.value}
              onChange={() => set(o.value === 'event' ? { type: 'event', event: '' } : o.value === 'api' ? { type: 'api' } : { type: 'schedule', interval: '1d' }, 'type')}
            />
            {o.label}
          </label>
        ))}
      </fieldset>
      {trigger.type === 'event' && (
        <>
          <div className="field">
            <label htmlFor={eventId}>Event type</label>
            <input id={eventId} className="mono" list={`${eventId}-list`} value={trigger.event ?? ''} placeholder="e.g. inquiry.completed" onChange={(e) => set({ ...trigger, event: e.target.value }, 'event')} />
            <datalist id={`${eventId}-list`}>
              {EVENT_TYPES.map((t) => (
                <option key={t} value={t} />
              ))}
            </datalist>
          </div>
          <ConditionEditor label="Only when" value={trigger.filter ?? ''} attributes={filterAttributes(trigger)} onChange={(v) => set(withField(trigger, 'filter', v), 'filter')} />
        </>
      )}
      {trigger.type === 'api' && <InputSchemaBuilder schema={trigger.inputSchema} onChange={(s) => set(s ? { ...trigger, inputSchema: s } : { type: 'api' }, 'schema')} />}
      {trigger.type === 'schedule' && (
        <>
          <SelectField label="Timing" value={trigger.cron !== undefined ? 'cron' : 'interval'} onChange={(v) => set(v === 'cron' ? { type: 'schedule', cron: '0 9 * * 1-5', input: trigger.input } : { type: 'schedule', interval: '1d', input: trigger.input }, 'timing')} options={[{ value: 'interval', label: 'every …' }, { value: 'cron', label: 'cron expression' }]} />
          {trigger.cron !== undefined ? (
            <>
              <TextField label="Cron" mono value={trigger.cron} onChange={(v) => set({ ...trigger, cron: v }, 'cron')} help="minute hour day-of-month month day-of-week, or @daily" />
              <TextField label="Time zone" value={trigger.timezone ?? ''} onChange={(v) => set(withField(trigger, 'timezone', v), 'tz')} placeholder="e.g. Europe/Berlin" />
            </>
          ) : (
            <TextField label="Interval" value={trigger.interval ?? ''} onChange={(v) => set({ ...trigger, interval: v }, 'interval')} placeholder="e.g. 1h, 1d" />
          )}
          <JsonField label="Input for each run (JSON)" value={trigger.input} onChange={(v) => set(v === undefined ? (({ input: _i, ...t }) => t)(trigger) : { ...trigger, input: v }, 'input')} rows={3} />
        </>
      )}
    </section>
  );
}

/** An API trigger's input schema, built field by field (the JSON Schema stays editable for the rest). */
function InputSchemaBuilder({ schema, onChange }: { schema: Obj | undefined; onChange: (s: Obj | undefined) => void }) {
  const props: Obj = schema?.properties ?? {};
  const required: string[] = schema?.required ?? [];
  const [name, setName] = useState('');
  const write = (properties: Obj, req: string[]) => {
    if (Object.keys(properties).length === 0) return onChange(undefined);
    const next: Obj = { ...(schema ?? {}), type: 'object', properties };
    if (req.length) next.required = req;
    else delete next.required;
    onChange(next);
  };
  const add = () => {
    const n = name.trim();
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(n) || props[n]) return;
    write({ ...props, [n]: { type: 'string' } }, [...required, n]);
    setName('');
  };
  return (
    <fieldset className="schema-builder">
      <legend>Input fields</legend>
      {Object.entries(props).map(([key, prop]: [string, Obj]) => (
        <div className="schema-row" key={key} role="group" aria-label={`Input field ${key}`}>
          <span className="mono">{key}</span>
          <select aria-label={`${key} type`} value={prop.type ?? 'string'} onChange={(e) => write({ ...props, [key]: { ...prop, type: e.target.value } }, required)}>
            {FIELD_TYPES.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
          <label className="inline">
            <input type="checkbox" checked={required.includes(key)} onChange={(e) => write(props, e.target.checked ? [...required, key] : required.filter((r) => r !== key))} />
            required
          </label>
          <button type="button" className="icon-button" aria-label={`Remove input field ${key}`} onClick={() => write(Object.fromEntries(Object.entries(props).filter(([k]) => k !== key)), required.filter((r) => r !== key))}>
            ×
          </button>
        </div>
      ))}
      <div className="value-row">
        <input aria-label="New input field name" className="mono" placeholder="field name" value={name} onChange={(e) => setName(e.target.value)} onKeyDown={(e) => e.key === 'Enter' && (e.preventDefault(), add())} />
        <button type="button" onClick={add} disabled={!name.trim()}>
          Add input field
        </button>
      </div>
      <details>
        <summary>Edit as JSON Schema</summary>
        <JsonField label="Input schema (JSON Schema)" value={schema} onChange={(v) => onChange(v as Obj | undefined)} rows={8} />
      </details>
    </fieldset>
  );
}
