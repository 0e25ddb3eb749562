/**
 * Form controls for step settings: a value input that is text (Liquid) or an
 * expression (CEL) with the attribute picker beside it, conditions as rows or
 * CEL, key/value maps, lists, and a form generated from an action's
 * parameter schema (JSON Schema from GET /v1/actions).
 */
import { useId, useMemo, useState, type ReactNode } from 'react';
import type { JsonSchema } from './api';
import type { Attribute } from './attributes';
import { celToRows, OPERATORS, rowsToCel, UNARY, type Combinator, type ConditionRow, type Operator } from './conditions';

export interface Pickers {
  attributes: Attribute[];
  lists: { id: string; name: string; kind: string }[];
  credentials: { id: string; name: string; kind: string }[];
  templates: { id: string; name: string }[];
  workflows: { id: string; name: string }[];
}

// ---------- the attribute picker ----------

export function AttributePicker({ attributes, onPick, label }: { attributes: Attribute[]; onPick: (path: string) => void; label: string }) {
  const [at, setAt] = useState<{ top: number; left: number } | null>(null);
  const open = at !== null;
  const setOpen = (value: boolean, button?: HTMLElement) => {
    if (!value || !button) return setAt(null);
    // Fixed, so no scrolling panel clips it; kept inside the window.
    const r = button.getBoundingClientRect();
    setAt({ top: Math.min(r.bottom + 2, window.innerHeight - 330), left: Math.max(8, Math.min(r.right - 300, window.innerWidth - 308)) });
  };
  const [filter, setFilter] = useState('');
  const shown = attributes.filter((a) => a.path.toLowerCase().includes(filter.toLowerCase()));
  const groups = [...new Set(shown.map((a) => a.group))];
  return (
    <span className="picker">
      <button type="button" className="icon-button" aria-label={`Insert data into ${label}`} title="Insert data from the run" aria-expanded={open} onClick={(e) => setOpen(!open, e.currentTarget)}>
        {'{ }'}
      </button>
      {at && (
        <div className="picker-pop" style={{ top: at.top, left: at.left }} role="dialog" aria-label={`Data for ${label}`} onKeyDown={(e) => e.key === 'Escape' && setOpen(false)}>
          <input autoFocus aria-label="Filter data" placeholder="Filter…" value={filter} onChange={(e) => setFilter(e.target.value)} />
          <div className="picker-list" role="listbox" aria-label="Run data">
            {groups.map((g) => (
              <div key={g} role="group" aria-label={g}>
                <div className="picker-group">{g}</div>
                {shown
                  .filter((a) => a.group === g)
                  .map((a) => (
                    <button
                      type="button"
                      role="option"
                      aria-selected={false}
                      key={a.path}
                      className="picker-option"
                      onClick={() => {
                        onPick(a.path);
                        setOpen(false);
                        setFilter('');
                      }}
                    >
                      {a.path}
                    </button>
                  ))}
              </div>
            ))}
            {shown.length === 0 && <div className="muted">Nothing matches.</div>}
          </div>
        </div>
      )}
    </span>
  );
}

// ---------- one value: text (Liquid) or expression (CEL) ----------

export type ScalarKind = 'string' | 'number' | 'boolean';

const isCel = (v: unknown): v is { $cel: string } => !!v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 && typeof (v as any).$cel === 'string';

export function ValueInput({
  label,
  value,
  onChange,
  pickers,
  kind = 'string',
  options,
  multiline,
  required,
  help,
}: {
  label: string;
  value: unknown;
  onChange: (v: unknown) => void;
  pickers: Pickers;
  kind?: ScalarKind;
  /** A fixed choice (an enum, lists, credentials): a select in "value" mode. */
  options?: { value: string; label: string }[];
  multiline?: boolean;
  required?: boolean;
  help?: ReactNode;
}) {
  const id = useId();
  const expression = isCel(value);
  const text = expression ? value.$cel : value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  const setText = (t: string) => {
    if (expression) return onChange(t === '' ? undefined : { $cel: t });
    if (t === '') return onChange(undefined);
    if (kind === 'number' && /^-?\d+(\.\d+)?$/.test(t.trim())) return onChange(Number(t));
    if (kind === 'boolean' && (t === 'true' || t === 'false')) return onChange(t === 'true');
    onChange(t);
  };
  const setMode = (mode: string) => {
    if (mode === 'cel' && !expression) onChange(text === '' ? { $cel: '' } : { $cel: kind === 'string' && typeof value === 'string' ? JSON.stringify(value) : text });
    if (mode === 'value' && expression) onChange(undefined);
  };
  const pick = (path: string) => {
    if (expression) onChange({ $cel: value.$cel ? `${value.$cel} ${path}` : path });
    else if (text === '' || options) onChange({ $cel: path });
    else onChange(`${text}{{ ${path} }}`);
  };
  const input =
    options && !expression ? (
      <select id={id} value={text} onChange={(e) => setText(e.target.value)}>
        <option value="">{required ? '— choose —' : '(not set)'}</option>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    ) : multiline && !expression ? (
      <textarea id={id} rows={3} value={text} onChange={(e) => setText(e.target.value)} />
    ) : (
      <input id={id} className={expression ? 'mono' : undefined} value={text} placeholder={expression ? 'CEL, e.g. trigger.object.id' : undefined} onChange={(e) => setText(e.target.value)} />
    );
  return (
    <div className="field">
      <div className="label-row">
        <label htmlFor={id}>{label}</label>
        {required && (
          <span className="required" title="required">
            required
          </span>
        )}
      </div>
      <div className="value-row">
        <select className="mode" aria-label={`${label}: kind of value`} value={expression ? 'cel' : 'value'} onChange={(e) => setMode(e.target.value)}>
          <option value="value">{options ? 'Choose' : kind === 'string' ? 'Text' : 'Value'}</option>
          <option value="cel">Expression</option>
        </select>
        {input}
        <AttributePicker label={label} attributes={pickers.attributes} onPick={pick} />
      </div>
      {help && <div className="help">{help}</div>}
    </div>
  );
}

// ---------- plain inputs ----------

export function TextField({ label, value, onChange, placeholder, mono, help, onBlur, list }: { label: string; value: string; onChange: (v: string) => void; placeholder?: string; mono?: boolean; help?: ReactNode; onBlur?: () => void; list?: string }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} className={mono ? 'mono' : undefined} value={value} placeholder={placeholder} list={list} onChange={(e) => onChange(e.target.value)} onBlur={onBlur} onKeyDown={(e) => e.key === 'Enter' && onBlur?.()} />
      {help && <div className="help">{help}</div>}
    </div>
  );
}

export function SelectField({ label, value, onChange, options }: { label: string; value: string; onChange: (v: string) => void; options: { value: string; label: string }[] }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </div>
  );
}

/** Free JSON, for the parts the forms do not cover. */
export function JsonField({ label, value, onChange, rows = 6 }: { label: string; value: unknown; onChange: (v: unknown) => void; rows?: number }) {
  const id = useId();
  const [draft, setDraft] = useState<string | null>(null);
  const shown = draft ?? (value === undefined ? '' : JSON.stringify(value, null, 2));
  let error: string | null = null;
  if (draft !== null && draft.trim() !== '') {
    try {
      JSON.parse(draft);
    } catch (e) {
      error = (e as Error).message;
    }
  }
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <textarea
        id={id}
        className="mono"
        rows={rows}
        value={shown}
        aria-invalid={!!error}
        onChange={(e) => {
          setDraft(e.target.value);
          try {
            onChange(e.target.value.trim() === '' ? undefined : JSON.parse(e.target.value));
          } catch {
            // keep the text until it parses
          }
        }}
        onBlur={() => !error && setDraft(null)}
      />
      {error && <div className="error-text">{error}</div>}
    </div>
  );
}

// ---------- conditions ----------

export function ConditionEditor({ label, value, onChange, attributes }: { label: string; value: string; onChange: (v: string) => void; attributes: Attribute[] }) {
  const parsed = useMemo(() => celToRows(value), [value]);
  const [mode, setMode] = useState<'rows' | 'cel'>(parsed ? 'rows' : 'cel');
  const [rowsState, setRowsState] = useState<{ rows: ConditionRow[]; combinator: Combinator } | null>(null);
  // Rows being edited may be incomplete (a field with no value yet): keep them while their CEL is what the step holds.
  const current = rowsState && rowsToCel(rowsState.rows, rowsState.combinator) === value ? rowsState : parsed;
  const celId = useId();
  const listId = useId();
  const update = (next: { rows: ConditionRow[]; combinator: Combinator }) => {
    setRowsState(next);
    onChange(rowsToCel(next.rows, next.combinator));
  };
  return (
    <fieldset className="condition">
      <legend>{label}</legend>
      <div className="tabs" role="tablist" aria-label={`${label}: edit as`}>
        <button type="button" role="tab" aria-selected={mode === 'rows'} disabled={!current} onClick={() => setMode('rows')}>
          Rows
        </button>
        <button type="button" role="tab" aria-selected={mode === 'cel'} onClick={() => setMode('cel')}>
          CEL
        </button>
      </div>
      {mode === 'rows' && current ? (
        <div>
          <datalist id={listId}>
            {attributes.map((a) => (
              <option key={a.path} value={a.path} />
            ))}
          </datalist>
          <label className="inline">
            Match
            <select aria-label={`${label}: match`} value={current.combinator} onChange={(e) => update({ ...current, combinator: e.target.value as Combinator })}>
              <option value="all">all of</option>
              <option value="any">any of</option>
            </select>
            these rows
          </label>
          {current.rows.map((row, i) => {
            const set = (patch: Partial<ConditionRow>) => update({ ...current, rows: current.rows.map((r, j) => (j === i ? { ...r, ...patch } : r)) });
            return (
              <div className="condition-row" key={i} role="group" aria-label={`${label} row ${i + 1}`}>
                <input aria-label={`${label} row ${i + 1} field`} className="mono" list={listId} placeholder="field" value={row.field} onChange={(e) => set({ field: e.target.value })} />
                <AttributePicker label={`${label} row ${i + 1} field`} attributes={attributes} onPick={(p) => set({ field: p })} />
                <select aria-label={`${label} row ${i + 1} operator`} value={row.op} onChange={(e) => set({ op: e.target.value as Operator })}>
                  {OPERATORS.map((o) => (
                    <option key={o.op} value={o.op}>
                      {o.label}
                    </option>
                  ))}
                </select>
                {!UNARY.includes(row.op) && <input aria-label={`${label} row ${i + 1} value`} placeholder="value" value={row.value} onChange={(e) => set({ value: e.target.value })} />}
                <button type="button" className="icon-button" aria-label={`Remove ${label} row ${i + 1}`} onClick={() => update({ ...current, rows: current.rows.filter((_, j) => j !== i) })}>
                  ×
                </button>
              </div>
            );
          })}
          <button type="button" className="link-button" onClick={() => update({ ...current, rows: [...current.rows, { field: '', op: '==', value: '' }] })}>
            + Add row to {label.toLowerCase()}
          </button>
        </div>
      ) : (
        <div className="field">
          <label htmlFor={celId}>{label} (CEL)</label>
          <div className="value-row">
            <textarea id={celId} className="mono" rows={2} value={value} onChange={(e) => onChange(e.target.value)} />
            <AttributePicker label={`${label} (CEL)`} attributes={attributes} onPick={(p) => onChange(value ? `${value} ${p}` : p)} />
          </div>
          {!current && value.trim() !== '' && <div className="help">This expression is more than rows can show; edit it as CEL.</div>}
        </div>
      )}
    </fieldset>
  );
}

// ---------- maps and lists of values ----------

export function MapEditor({ label, value, onChange, pickers }: { label: string; value: Record<string, unknown> | undefined; onChange: (v: Record<string, unknown> | undefined) => void; pickers: Pickers }) {
  const entries = Object.entries(value ?? {});
  const [pendingKeys, setPendingKeys] = useState<string[]>([]);
  const set = (next: [string, unknown][]) => onChange(next.length === 0 ? undefined : Object.fromEntries(next));
  return (
    <fieldset className="map">
      <legend>{label}</legend>
      {entries.map(([k, v], i) => (
        <div className="map-entry" key={i}>
          <div className="field">
            <label>
              Name
              <input
                aria-label={`${label} name ${i + 1}`}
                className="mono"
                value={pendingKeys[i] ?? k}
                onChange={(e) => setPendingKeys(Object.assign([...pendingKeys], { [i]: e.target.value }))}
                onBlur={() => {
                  const nk = pendingKeys[i];
                  if (nk !== undefined && nk !== k) set(entries.map(([kk, vv], j) => (j === i ? [nk, vv] : [kk, vv])));
                  setPendingKeys([]);
                }}
              />
            </label>
          </div>
          <ValueInput label={`${label} ${pendingKeys[i] ?? k}`} value={v} pickers={pickers} onChange={(nv) => set(entries.map(([kk, vv], j) => (j === i ? [kk, nv ?? ''] : [kk, vv])))} />
          <button type="button" className="icon-button" aria-label={`Remove ${label} ${k}`} onClick={() => set(entries.filter((_, j) => j !== i))}>
            ×
          </button>
        </div>
      ))}
      <AddEntry label={label} onAdd={(k) => set([...entries, [k, '']])} taken={entries.map(([k]) => k)} />
    </fieldset>
  );
}

function AddEntry({ label, onAdd, taken }: { label: string; onAdd: (key: string) => void; taken: string[] }) {
  const [key, setKey] = useState('');
  const add = () => {
    if (key.trim() && !taken.includes(key.trim())) onAdd(key.trim());
    setKey('');
  };
  return (
    <div className="value-row">
      <input aria-label={`New ${label.toLowerCase()} name`} className="mono" placeholder="name" value={key} onChange={(e) => setKey(e.target.value)} onKeyDown={(e) => e.key === 'Enter' && (e.preventDefault(), add())} />
      <button type="button" onClick={add} disabled={!key.trim()}>
        Add {label.toLowerCase()}
      </button>
    </div>
  );
}

export function ListEditor({ label, value, onChange, pickers, itemKind }: { label: string; value: unknown[] | undefined; onChange: (v: unknown[] | undefined) => void; pickers: Pickers; itemKind: ScalarKind }) {
  const items = value ?? [];
  const set = (next: unknown[]) => onChange(next.length === 0 ? undefined : next);
  return (
    <fieldset className="list">
      <legend>{label}</legend>
      {items.map((v, i) => (
        <div className="list-item" key={i}>
          <ValueInput label={`${label} ${i + 1}`} value={v} kind={itemKind} pickers={pickers} onChange={(nv) => set(items.map((x, j) => (j === i ? (nv ?? '') : x)))} />
          <button type="button" className="icon-button" aria-label={`Remove ${label} ${i + 1}`} onClick={() => set(items.filter((_, j) => j !== i))}>
            ×
          </button>
        </div>
      ))}
      <button type="button" className="link-button" onClick={() => set([...items, ''])}>
        + Add to {label}
      </button>
    </fieldset>
  );
}

// ---------- a form from a JSON Schema ----------

/** A schema's usable branch: `anyOf [X, null]` is X; `anyOf [string, array]` is its first branch. */
function effective(schema: JsonSchema): JsonSchema {
  if (Array.isArray(schema.anyOf)) {
    const branches = schema.anyOf.filter((b: JsonSchema) => b.type !== 'null');
    return branches.length > 0 ? effective({ ...branches[0], description: schema.description ?? branches[0].description }) : schema;
  }
  return schema;
}

function scalarKind(schema: JsonSchema): ScalarKind | null {
  const s = effective(schema);
  if (s.type === 'string') return 'string';
  if (s.type === 'number' || s.type === 'integer') return 'number';
  if (s.type === 'boolean') return 'boolean';
  if (Array.isArray(s.enum)) return 'string';
  return null;
}

function pickerOptions(schema: JsonSchema, pickers: Pickers): { value: string; label: string }[] | undefined {
  const s = effective(schema);
  if (Array.isArray(s.enum)) return s.enum.map((v: unknown) => ({ value: String(v), label: String(v) }));
  if (s.type === 'boolean') return [{ value: 'true', label: 'yes' }, { value: 'false', label: 'no' }];
  const pattern = String(s.pattern ?? '');
  if (pattern.startsWith('^lst_')) return pickers.lists.map((l) => ({ value: l.id, label: `${l.name} (${l.kind})` }));
  if (pattern.startsWith('^cred_')) return pickers.credentials.map((c) => ({ value: c.id, label: `${c.name} (${c.kind})` }));
  if (pattern.startsWith('^tpl_') || pattern.startsWith('^rtpl_')) return pickers.templates.map((t) => ({ value: t.id, label: t.name }));
  return undefined;
}

export function humanize(name: string): string {
  const words = name.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/_/g, ' ').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function SchemaField({ name, schema, value, onChange, pickers, required }: { name: string; schema: JsonSchema; value: unknown; onChange: (v: unknown) => void; pickers: Pickers; required?: boolean }) {
  const s = effective(schema);
  const label = humanize(name);
  const help = schema.description ?? s.description;
  const kind = scalarKind(s);
  if (kind) return <ValueInput label={label} value={value} onChange={onChange} pickers={pickers} kind={kind} options={pickerOptions(s, pickers)} required={required} help={help} multiline={(s.maxLength ?? 0) > 2000} />;
  if (s.type === 'array' && s.items && scalarKind(s.items) && !isCel(value)) {
    return <ListEditor label={label} value={Array.isArray(value) ? value : value === undefined ? undefined : [value]} onChange={onChange} pickers={pickers} itemKind={scalarKind(s.items)!} />;
  }
  if (s.type === 'object' && !s.properties && s.additionalProperties && (value === undefined || (typeof value === 'object' && !Array.isArray(value) && !isCel(value)))) {
    return <MapEditor label={label} value={value as Record<string, unknown> | undefined} onChange={onChange} pickers={pickers} />;
  }
  return <JsonField label={`${label} (JSON)`} value={value} onChange={onChange} rows={4} />;
}

export function ParamsForm({ schema, params, onChange, pickers }: { schema: JsonSchema | undefined; params: Record<string, unknown>; onChange: (p: Record<string, unknown>) => void; pickers: Pickers }) {
  if (!schema?.properties) return <JsonField label="Parameters (JSON)" value={params} onChange={(v) => onChange((v as Record<string, unknown>) ?? {})} />;
  const required: string[] = schema.required ?? [];
  const names = Object.keys(schema.properties).sort((a, b) => Number(required.includes(b)) - Number(required.includes(a)));
  return (
    <div className="params">
      {names.map((name) => (
        <SchemaField
          key={name}
          name={name}
          schema={schema.properties[name]}
          value={params[name]}
          required={required.includes(name)}
          pickers={pickers}
          onChange={(v) => {
            const next = { ...params };
            if (v === undefined) delete next[name];
            else next[name] = v;
            onChange(next);
          }}
        />
      ))}
    </div>
  );
}
