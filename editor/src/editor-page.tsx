/**
 * One workflow on the canvas: palette, canvas, side panel, and the toolbar
 * (save, publish, compare, roll back, test, import/export, undo/redo,
 * auto-layout). Problems come from the server's validator as you edit.
 */
import { ReactFlowProvider } from '@xyflow/react';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api, ApiError, rollbackAvailable, type ActionInfo, type ProblemDetail, type RunDetail, type VersionInfo, type WorkflowRecord } from './api';
import { attributesFor } from './attributes';
import { Canvas, stepTitle } from './canvas';
import { DiffView } from './diff';
import { Dialog } from './dialog';
import type { Pickers } from './fields';
import {
  emptyGraph,
  freshStepId,
  fromDefinition,
  linkFrom,
  newUid,
  outletsOf,
  removeStep,
  setLink,
  stepByUid,
  STEP_TYPE_TITLES,
  toDefinition,
  TRIGGER,
  type EditorGraph,
  type Obj,
  type StepType,
} from './graph';
import { autoLayout } from './layout';
import { StepPanel, TriggerPanel } from './panels';
import { AppLink } from './app-link';
import { navigate } from './router';
import { sampleInput } from './samples';

interface Doc {
  graph: EditorGraph;
  past: EditorGraph[];
  future: EditorGraph[];
  lastKey?: string;
  lastAt?: number;
}

const NEW_STEP: Record<Exclude<StepType, 'action'>, () => Obj> = {
  condition: () => ({ type: 'condition', routes: [{ when: '' }] }),
  parallel: () => ({ type: 'parallel', branches: [] }),
  for_each: () => ({ type: 'for_each', items: '', concurrency: 1, steps: [] }),
  wait_for_event: () => ({ type: 'wait_for_event', events: [], timeout: '' }),
  wait_for_time: () => ({ type: 'wait_for_time', duration: '' }),
  run_workflow: () => ({ type: 'run_workflow', workflow: '' }),
  end: () => ({ type: 'end' }),
};

export function EditorPage({ workflowId }: { workflowId: string | null }) {
  const [record, setRecord] = useState<WorkflowRecord | null>(null);
  const [newId, setNewId] = useState('');
  const [name, setName] = useState('');
  const [doc, setDoc] = useState<Doc>(() => ({ graph: emptyGraph(), past: [], future: [] }));
  const graph = doc.graph;
  const [selected, setSelected] = useState<string | null>(TRIGGER);
  const [problems, setProblems] = useState<ProblemDetail[]>([]);
  const [uidAt, setUidAt] = useState<string[]>([]);
  const [validating, setValidating] = useState(false);
  const [actions, setActions] = useState<ActionInfo[]>([]);
  const [pickerData, setPickerData] = useState<Omit<Pickers, 'attributes'>>({ lists: [], credentials: [], templates: [], workflows: [] });
  const [message, setMessage] = useState<{ kind: 'info' | 'error'; text: string } | null>(null);
  const [dirty, setDirty] = useState(false);
  const [dialog, setDialog] = useState<null | 'test' | 'diff' | 'import' | 'runs'>(null);
  const [versions, setVersions] = useState<VersionInfo[]>([]);
  const [canRollback, setCanRollback] = useState(false);
  const [paletteFilter, setPaletteFilter] = useState('');
  const [busy, setBusy] = useState(false);

  // ---- loading ----
  useEffect(() => {
    api.actions().then(setActions, () => undefined);
    Promise.all([api.lists().catch(() => []), api.credentials().catch(() => []), api.requestTemplates().catch(() => []), api.workflows().catch(() => [])]).then(([lists, credentials, templates, workflows]) =>
      setPickerData({ lists, credentials, templates, workflows: workflows.map((w) => ({ id: w.id, name: w.name })) }),
    );
    rollbackAvailable().then(setCanRollback);
  }, []);

  const loadVersions = useCallback(async (id: string) => setVersions((await api.versions(id)).versions), []);

  useEffect(() => {
    if (!workflowId) return;
    api.workflow(workflowId).then(
      (w) => {
        setRecord(w);
        setName(w.name);
        setDoc({ graph: autoLayout(fromDefinition(w.definition)), past: [], future: [] });
        setDirty(false);
      },
      (err) => setMessage({ kind: 'error', text: (err as Error).message }),
    );
    loadVersions(workflowId).catch(() => undefined);
  }, [workflowId, loadVersions]);

  // ---- editing with undo ----
  const commit = useCallback((next: EditorGraph, coalesce?: string) => {
    setDoc((d) => {
      const now = Date.now();
      // Typing into one field is one undo step.
      if (coalesce && d.lastKey === coalesce && now - (d.lastAt ?? 0) < 1500) return { ...d, graph: next, future: [], lastAt: now };
      return { graph: next, past: [...d.past.slice(-99), d.graph], future: [], lastKey: coalesce, lastAt: now };
    });
    setDirty(true);
  }, []);
  const undo = useCallback(() => {
    setDoc((d) => (d.past.length === 0 ? d : { graph: d.past[d.past.length - 1], past: d.past.slice(0, -1), future: [d.graph, ...d.future] }));
    setDirty(true);
  }, []);
  const redo = useCallback(() => {
    setDoc((d) => (d.future.length === 0 ? d : { graph: d.future[0], past: [...d.past, d.graph], future: d.future.slice(1) }));
    setDirty(true);
  }, []);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (!(e.ctrlKey || e.metaKey) || e.key.toLowerCase() !== 'z') return;
      const target = e.target as HTMLElement;
      if (target.matches('input, textarea, select')) return;
      e.preventDefault();
      if (e.shiftKey) redo();
      else undo();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [undo, redo]);

  // ---- validation by the server, as you edit ----
  const definition = useMemo(() => toDefinition(graph), [graph]);
  useEffect(() => {
    setValidating(true);
    const timer = setTimeout(() => {
      api.validate(definition.definition).then(
        (r) => {
          setProblems(r.problems);
          setUidAt(definition.uidAt);
          setValidating(false);
        },
        (err) => {
          setProblems([{ path: '/', message: `could not validate: ${(err as Error).message}` }]);
          setValidating(false);
        },
      );
    }, 250);
    return () => clearTimeout(timer);
  }, [definition]);

  const problemsByUid = useMemo(() => {
    const map = new Map<string, ProblemDetail[]>();
    const add = (uid: string, p: ProblemDetail) => map.set(uid, [...(map.get(uid) ?? []), p]);
    for (const p of problems) {
      const index = /^\/steps\/(\d+)/.exec(p.path);
      if (p.path.startsWith('/trigger')) add(TRIGGER, p);
      else if (index && uidAt[Number(index[1])]) add(uidAt[Number(index[1])], p);
      else if (p.stepId && graph.steps.find((s) => s.step.id === p.stepId)) add(graph.steps.find((s) => s.step.id === p.stepId)!.uid, p);
      else add('', p);
    }
    return map;
  }, [problems, uidAt, graph.steps]);
  const problemCounts = useMemo(() => new Map([...problemsByUid].map(([k, v]) => [k, v.length])), [problemsByUid]);

  const actionMap = useMemo(() => new Map(actions.map((a) => [a.name, a])), [actions]);
  const actionTitles = useMemo(() => new Map(actions.map((a) => [a.name, a.title])), [actions]);
  const pickers: Pickers = useMemo(() => ({ ...pickerData, attributes: attributesFor(graph, selected && selected !== TRIGGER ? selected : null, actionMap) }), [pickerData, graph, selected, actionMap]);

  // ---- adding steps ----
  const addStep = (step: Obj) => {
    const uid = newUid();
    const base = step.type === 'action' ? step.action : step.type;
    const node = { uid, step: { id: freshStepId(graph, base), ...step } };
    let next: EditorGraph = { ...graph, steps: [...graph.steps, node] };
    // Attach to the selected node's first free outlet, so a chain is built by clicking the palette.
    const from = selected && (selected === TRIGGER || stepByUid(graph, selected)) ? selected : null;
    let placed = false;
    if (from) {
      const outlets = from === TRIGGER ? [{ outlet: 'start' }] : outletsOf(stepByUid(graph, from)!.step);
      const free = outlets.findIndex((o) => !linkFrom(graph, from, o.outlet));
      if (free >= 0) {
        next = setLink(next, from, outlets[free].outlet, uid);
        const p = graph.positions[from] ?? { x: 0, y: 0 };
        next.positions = { ...graph.positions, [uid]: { x: p.x + (free - (outlets.length - 1) / 2) * 260, y: p.y + 130 } };
        placed = true;
      }
    }
    if (!placed) {
      const maxY = Math.max(0, ...Object.values(graph.positions).map((p) => p.y));
      next.positions = { ...graph.positions, [uid]: { x: 300, y: maxY + 130 } };
    }
    commit(next);
    setSelected(uid);
  };

  const deleteSteps = (uids: string[]) => {
    let next = graph;
    for (const u of uids) next = removeStep(next, u);
    commit(next);
    if (selected && uids.includes(selected)) setSelected(null);
  };

  // ---- saving, publishing ----
  const currentId = record?.id ?? null;
  const save = async (): Promise<WorkflowRecord | null> => {
    setBusy(true);
    try {
      const saved = currentId
        ? await api.updateWorkflow(currentId, { name, definition: definition.definition })
        : await api.createWorkflow({ ...(newId ? { id: newId } : {}), name, definition: definition.definition });
      setRecord(saved);
      setDirty(false);
      setMessage({ kind: 'info', text: `Draft saved.` });
      if (!currentId) window.history.replaceState(null, '', `/workflows/${saved.id}`);
      return saved;
    } catch (err) {
      setMessage({ kind: 'error', text: describe(err) });
      return null;
    } finally {
      setBusy(false);
    }
  };
  const publish = async () => {
    const saved = dirty || !record ? await save() : record;
    if (!saved) return;
    setBusy(true);
    try {
      const published = await api.publish(saved.id);
      setRecord({ ...saved, liveVersion: published.version });
      await loadVersions(saved.id);
      setMessage({ kind: 'info', text: `Published version ${published.version}; it is live.` });
    } catch (err) {
      setMessage({ kind: 'error', text: describe(err) });
    } finally {
      setBusy(false);
    }
  };
  const rollback = async (version: number) => {
    if (!record) return;
    try {
      await api.rollback(record.id, version);
      const w = await api.workflow(record.id);
      setRecord(w);
      await loadVersions(record.id);
      setMessage({ kind: 'info', text: `Version ${version} is live again.` });
    } catch (err) {
      setMessage({ kind: 'error', text: describe(err) });
    }
  };

  const invalid = problems.length > 0 || validating;
  const live = versions.find((v) => v.live);
  const canSave = !invalid && name.trim() !== '' && !busy;
  const problemsHere = selected ? (problemsByUid.get(selected) ?? []) : [];
  const palette = actions.filter((a) => `${a.title} ${a.name}`.toLowerCase().includes(paletteFilter.toLowerCase()));

  return (
    <div className="editor">
      <div className="toolbar" role="toolbar" aria-label="Workflow">
        <AppLink to="/" className="back">
          ← Workflows
        </AppLink>
        <label className="inline">
          Name
          <input aria-label="Workflow name" value={name} onChange={(e) => (setName(e.target.value), setDirty(true))} placeholder="e.g. Review completed KYC inquiries" />
        </label>
        {currentId ? (
          <span className="mono muted" aria-label="Workflow id">
            {currentId}
          </span>
        ) : (
          <label className="inline">
            Id
            <input aria-label="Workflow id" className="mono" value={newId} onChange={(e) => setNewId(e.target.value)} placeholder="optional, e.g. kyc_review" />
          </label>
        )}
        <span className="status-pill" aria-live="polite">
          {record?.liveVersion ? `live: v${record.liveVersion}` : 'not published'}
          {dirty ? ' · unsaved changes' : ''}
        </span>
        <span className="spacer" />
        <button type="button" onClick={undo} disabled={doc.past.length === 0} aria-keyshortcuts="Control+Z">
          Undo
        </button>
        <button type="button" onClick={redo} disabled={doc.future.length === 0} aria-keyshortcuts="Control+Shift+Z">
          Redo
        </button>
        <button type="button" onClick={() => commit(autoLayout(graph))}>
          Auto-layout
        </button>
        <button type="button" onClick={() => setDialog('import')}>
          Import / export
        </button>
        <button type="button" onClick={save} disabled={!canSave} title={invalid ? 'Fix the problems first: drafts must be valid to save' : undefined}>
          Save draft
        </button>
        <button type="button" className="primary" onClick={publish} disabled={!canSave} title={invalid ? 'Fix the problems first' : undefined}>
          Publish
        </button>
        <button type="button" onClick={() => setDialog('diff')} disabled={!live}>
          Compare with live
        </button>
        <button type="button" onClick={() => setDialog('test')} disabled={!canSave}>
          Test
        </button>
        <button type="button" onClick={() => setDialog('runs')} disabled={!currentId}>
          Runs
        </button>
      </div>
      {message && (
        <div className={`message ${message.kind}`} role={message.kind === 'error' ? 'alert' : 'status'}>
          {message.text}
          <button type="button" className="icon-button" aria-label="Dismiss message" onClick={() => setMessage(null)}>
            ×
          </button>
        </div>
      )}
      <div className="editor-body">
        <nav className="palette" aria-label="Palette">
          <h2>Steps</h2>
          {(Object.keys(NEW_STEP) as Exclude<StepType, 'action'>[]).map((t) => (
            <button type="button" key={t} className="palette-item" onClick={() => addStep(NEW_STEP[t]())} aria-label={`Add ${STEP_TYPE_TITLES[t]} step`}>
              {STEP_TYPE_TITLES[t]}
            </button>
          ))}
          <h2>Actions</h2>
          <input aria-label="Filter actions" placeholder="Filter actions…" value={paletteFilter} onChange={(e) => setPaletteFilter(e.target.value)} />
          <div className="palette-actions">
            {palette.map((a) => (
              <button type="button" key={a.name} className="palette-item" title={a.description} onClick={() => addStep({ type: 'action', action: a.name })} aria-label={`Add action ${a.title}`}>
                {a.title}
              </button>
            ))}
          </div>
        </nav>
        <main className="canvas" aria-label="Canvas">
          <ReactFlowProvider>
            <Canvas
              graph={graph}
              selected={selected}
              onSelect={setSelected}
              problemsByUid={problemCounts}
              actionTitles={actionTitles}
              onConnect={({ from, outlet, to }) => commit(setLink(graph, from, outlet, to))}
              onMove={(uid, position) => commit({ ...graph, positions: { ...graph.positions, [uid]: position } })}
              onDeleteNodes={deleteSteps}
              onDeleteEdges={(es) => commit(es.reduce((g, e) => setLink(g, e.from, e.outlet, null), graph))}
            />
          </ReactFlowProvider>
          <ProblemsBar problems={problems} validating={validating} graph={graph} problemsByUid={problemsByUid} onSelect={setSelected} actionTitles={actionTitles} />
        </main>
        <aside className="side" aria-label="Settings">
          {selected === TRIGGER ? (
            <TriggerPanel graph={graph} problems={problemsHere} commit={commit} />
          ) : selected && stepByUid(graph, selected) ? (
            <StepPanel key={selected} graph={graph} uid={selected} actions={actionMap} pickers={pickers} problems={problemsHere} commit={commit} onDelete={() => deleteSteps([selected])} />
          ) : (
            <div className="panel muted">
              <p>Select the trigger or a step to set it up. With a step selected, a step from the palette is added after it.</p>
              {live && (
                <>
                  <h2>Versions</h2>
                  <VersionList versions={versions} canRollback={canRollback} onRollback={rollback} />
                </>
              )}
            </div>
          )}
        </aside>
      </div>
      {dialog === 'diff' && live && <DiffView draft={definition.definition} live={live.definition} liveVersion={live.version} onClose={() => setDialog(null)} versions={versions} canRollback={canRollback} onRollback={rollback} />}
      {dialog === 'import' && (
        <ImportExport
          body={{ id: currentId ?? (newId || undefined), name, description: record?.description ?? undefined, definition: definition.definition }}
          onImport={(body) => {
            const def = body.definition ?? body;
            if (body.name && typeof body.name === 'string') setName(body.name);
            if (!currentId && typeof body.id === 'string') setNewId(body.id);
            commit(autoLayout(fromDefinition(def)));
            setSelected(TRIGGER);
            setDialog(null);
          }}
          onClose={() => setDialog(null)}
        />
      )}
      {dialog === 'test' && (
        <TestDialog
          trigger={graph.trigger}
          onClose={() => setDialog(null)}
          onRun={async (input) => {
            const saved = dirty || !record ? await save() : record;
            if (!saved) return;
            try {
              const run = await api.testRun(saved.id, input);
              navigate(`/runs/${run.runId}`);
            } catch (err) {
              setMessage({ kind: 'error', text: describe(err) });
              setDialog(null);
            }
          }}
        />
      )}
      {dialog === 'runs' && currentId && <RunsDialog workflowId={currentId} onClose={() => setDialog(null)} />}
    </div>
  );
}

export function describe(err: unknown): string {
  if (err instanceof ApiError) return `${err.message}${err.details.length ? ': ' + err.details.map((d) => `${d.path} ${d.message}`).join('; ') : ''}`;
  return (err as Error).message;
}

function ProblemsBar({ problems, validating, graph, problemsByUid, onSelect, actionTitles }: { problems: ProblemDetail[]; validating: boolean; graph: EditorGraph; problemsByUid: Map<string, ProblemDetail[]>; onSelect: (uid: string) => void; actionTitles: Map<string, string> }) {
  const [open, setOpen] = useState(false);
  return (
    <div className={`problems-bar ${problems.length ? 'bad' : 'good'}`} role="status" aria-live="polite" aria-label="Validation">
      <button type="button" className="link-button" onClick={() => setOpen(!open)} aria-expanded={open} disabled={problems.length === 0}>
        {validating ? 'Checking…' : problems.length === 0 ? '✓ No problems: ready to publish' : `${problems.length} problem${problems.length === 1 ? '' : 's'}: cannot publish yet`}
      </button>
      {open && problems.length > 0 && (
        <ul>
          {[...problemsByUid].map(([uid, ps]) =>
            ps.map((p, i) => {
              const step = stepByUid(graph, uid)?.step;
              return (
                <li key={`${uid}${i}`}>
                  <button type="button" className="link-button" onClick={() => uid && onSelect(uid)}>
                    {uid === TRIGGER ? 'Trigger' : step ? `${step.id} (${stepTitle(step, actionTitles)})` : 'Workflow'}
                  </button>
                  : {p.message}
                </li>
              );
            }),
          )}
        </ul>
      )}
    </div>
  );
}

function VersionList({ versions, canRollback, onRollback }: { versions: VersionInfo[]; canRollback: boolean; onRollback: (v: number) => void }) {
  return (
    <ul className="versions">
      {[...versions].reverse().map((v) => (
        <li key={v.version}>
          v{v.version} · {new Date(v.publishedAt).toLocaleString()} {v.live ? <strong>(live)</strong> : canRollback && <button type="button" onClick={() => onRollback(v.version)}>Roll back to v{v.version}</button>}
        </li>
      ))}
    </ul>
  );
}

function ImportExport({ body, onImport, onClose }: { body: Obj; onImport: (body: Obj) => void; onClose: () => void }) {
  const exported = JSON.stringify(body, null, 2);
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const href = useMemo(() => URL.createObjectURL(new Blob([exported + '\n'], { type: 'application/json' })), [exported]);
  const tryImport = (t: string) => {
    try {
      const parsed = JSON.parse(t);
      if (!parsed || typeof parsed !== 'object' || !(parsed.definition ?? parsed).steps) throw new Error('expected a workflow {name, definition} or a definition {trigger, steps}');
      onImport(parsed);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <Dialog title="Import or export JSON" onClose={onClose} wide>
      <div className="two-col">
        <div>
          <h3>Export</h3>
          <textarea aria-label="Exported JSON" className="mono" readOnly rows={16} value={exported} />
          <a className="button" href={href} download={`${body.id ?? 'workflow'}.json`}>
            Download {body.id ?? 'workflow'}.json
          </a>
        </div>
        <div>
          <h3>Import</h3>
          <label className="field">
            Paste a workflow or a definition
            <textarea aria-label="JSON to import" className="mono" rows={12} value={text} onChange={(e) => setText(e.target.value)} />
          </label>
          <label className="field">
            or choose a file
            <input type="file" accept="application/json,.json" onChange={async (e) => e.target.files?.[0] && tryImport(await e.target.files[0].text())} />
          </label>
          {error && <div className="error-text" role="alert">{error}</div>}
          <button type="button" className="primary" onClick={() => tryImport(text)} disabled={!text.trim()}>
            Import (replaces the canvas; undo brings it back)
          </button>
        </div>
      </div>
    </Dialog>
  );
}

function TestDialog({ trigger, onRun, onClose }: { trigger: Obj; onRun: (input: unknown) => Promise<void>; onClose: () => void }) {
  const [text, setText] = useState(() => JSON.stringify(sampleInput(trigger), null, 2));
  const [error, setError] = useState<string | null>(null);
  const [running, setRunning] = useState(false);
  return (
    <Dialog title="Test the draft" onClose={onClose}>
      <p className="help">The saved draft runs once with this sample as its trigger data ({trigger.type === 'event' ? '{event, object}' : 'the request body'}). Its actions really run.</p>
      <label className="field">
        Sample payload (JSON)
        <textarea aria-label="Sample payload" className="mono" rows={14} value={text} onChange={(e) => setText(e.target.value)} />
      </label>
      {error && <div className="error-text" role="alert">{error}</div>}
      <button
        type="button"
        className="primary"
        disabled={running}
        onClick={async () => {
          try {
            const input = JSON.parse(text);
            setRunning(true);
            await onRun(input);
          } catch (e) {
            setError((e as Error).message);
          } finally {
            setRunning(false);
          }
        }}
      >
        Start test run
      </button>
    </Dialog>
  );
}

export function RunsDialog({ workflowId, onClose }: { workflowId: string; onClose: () => void }) {
  const [runs, setRuns] = useState<RunDetail[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.runs(workflowId, 50).then(setRuns, (e) => setError((e as Error).message));
  }, [workflowId]);
  return (
    <Dialog title={`Runs of ${workflowId}`} onClose={onClose} wide>
      {error && <div className="error-text">{error}</div>}
      {!runs && !error && <p>Loading…</p>}
      {runs && runs.length === 0 && <p>No runs yet.</p>}
      {runs && runs.length > 0 && (
        <table className="table">
          <thead>
            <tr>
              <th>Run</th>
              <th>Version</th>
              <th>Started by</th>
              <th>Status</th>
              <th>Started</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((r) => (
              <tr key={r.runId}>
                <td>
                  <AppLink to={`/runs/${r.runId}`} className="mono">
                    {r.runId}
                  </AppLink>
                </td>
                <td>{r.version === 0 ? 'draft' : `v${r.version}`}</td>
                <td>{r.triggerType === 'manual' ? 'test' : r.triggerType}</td>
                <td>
                  <span className={`badge status-${r.status}`}>{r.status}</span>
                </td>
                <td>{new Date(r.startedAt).toLocaleString()}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Dialog>
  );
}
