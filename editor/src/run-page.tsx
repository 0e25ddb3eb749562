/**
 * One run on the canvas of the version it runs: each step coloured by its
 * status (pending, running, waiting, done, failed), its settings, output and
 * error one click away, an event delivered to a waiting step from here, and
 * a link to the run in the Temporal Web UI.
 */
import { ReactFlowProvider } from '@xyflow/react';
import { useEffect, useMemo, useState } from 'react';
import { api, type ActionInfo, type RunDetail, type StepState } from './api';
import { Canvas } from './canvas';
import { describe } from './editor-page';
import { fromDefinition, stepByUid, TRIGGER, type EditorGraph } from './graph';
import { autoLayout } from './layout';
import { AppLink } from './app-link';

const ACTIVE = ['running', 'waiting', 'queued'];

export function RunPage({ runId }: { runId: string }) {
  const [run, setRun] = useState<RunDetail | null>(null);
  const [graph, setGraph] = useState<EditorGraph | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [actions, setActions] = useState<ActionInfo[]>([]);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    api.actions().then(setActions, () => undefined);
  }, []);

  useEffect(() => {
    let stopped = false;
    api.run(runId).then(
      async (r) => {
        if (stopped) return;
        setRun(r);
        setError(null);
        if (!graph) {
          // Test runs (version 0) ran the draft; others ran a published version.
          const definition = r.version === 0 ? (await api.workflow(r.workflowId)).definition : (await api.versions(r.workflowId)).versions.find((v) => v.version === r.version)?.definition;
          if (definition && !stopped) setGraph(autoLayout(fromDefinition(definition)));
        }
      },
      (err) => !stopped && setError(describe(err)),
    );
    return () => {
      stopped = true;
    };
  }, [runId, tick]); // eslint-disable-line react-hooks/exhaustive-deps

  const status = run?.state?.status ?? run?.status;
  useEffect(() => {
    if (run && status && !ACTIVE.includes(status) && run.state) return;
    const timer = setTimeout(() => setTick((t) => t + 1), 1000);
    return () => clearTimeout(timer);
  }, [run, status, tick]);

  const statusByUid = useMemo(() => {
    const map = new Map<string, StepState>();
    if (!graph || !run?.state) return map;
    for (const s of run.state.steps) {
      const uid = graph.steps.find((n) => n.step.id === s.id)?.uid;
      if (uid) map.set(uid, s);
    }
    return map;
  }, [graph, run]);
  const actionTitles = useMemo(() => new Map(actions.map((a) => [a.name, a.title])), [actions]);
  const problems = useMemo(() => new Map<string, number>(), []);

  const selectedStep = selected && graph ? stepByUid(graph, selected)?.step : undefined;
  const selectedState = selected ? statusByUid.get(selected) : undefined;

  return (
    <div className="editor">
      <div className="toolbar" role="toolbar" aria-label="Run">
        <AppLink to="/" className="back">
          ← Workflows
        </AppLink>
        {run && (
          <AppLink to={`/workflows/${run.workflowId}`}>
            {run.workflowId}
          </AppLink>
        )}
        <h1 className="run-title mono">{runId}</h1>
        {run && (
          <>
            <span className="muted">{run.version === 0 ? 'test run of the draft' : `version ${run.version}`}</span>
            <span className={`badge status-${status}`} aria-label={`Run status ${status}`} data-testid="run-status">
              {status}
            </span>
            <span className="spacer" />
            {run.temporalUrl && (
              <a href={run.temporalUrl} target="_blank" rel="noreferrer">
                Open in Temporal Web UI ↗
              </a>
            )}
            {status && ACTIVE.includes(status) && (
              <button type="button" onClick={() => api.cancelRun(runId).then(() => setTick((t) => t + 1), (e) => setError(describe(e)))}>
                Cancel run
              </button>
            )}
          </>
        )}
      </div>
      {error && (
        <div className="message error" role="alert">
          {error}
        </div>
      )}
      {run?.state && (run.state.reason || run.state.error) && (
        <div className={`message ${run.state.error ? 'error' : 'info'}`} role="status" aria-label="Run result">
          {run.state.error ? (
            <>
              <strong>Failed{run.state.error.stepId ? ` at ${run.state.error.stepId}` : ''}:</strong> {run.state.error.type}: {run.state.error.message}
            </>
          ) : (
            <>
              <strong>{run.state.outcome}:</strong> {run.state.reason}
            </>
          )}
        </div>
      )}
      <div className="editor-body run-body">
        <main className="canvas" aria-label="Run canvas">
          {graph ? (
            <ReactFlowProvider>
              <Canvas graph={graph} selected={selected} onSelect={setSelected} problemsByUid={problems} statusByUid={statusByUid} actionTitles={actionTitles} readOnly />
            </ReactFlowProvider>
          ) : (
            <p className="muted">Loading…</p>
          )}
          <Legend />
        </main>
        <aside className="side" aria-label="Step details">
          {selected === TRIGGER || !selected ? (
            <div className="panel">
              <h2>Run</h2>
              {run && (
                <dl className="facts">
                  <dt>Status</dt>
                  <dd>{status}</dd>
                  <dt>Started</dt>
                  <dd>{new Date(run.startedAt).toLocaleString()}</dd>
                  {run.endedAt && (
                    <>
                      <dt>Ended</dt>
                      <dd>{new Date(run.endedAt).toLocaleString()}</dd>
                    </>
                  )}
                  {run.state?.output !== undefined && (
                    <>
                      <dt>Output</dt>
                      <dd>
                        <pre>{JSON.stringify(run.state.output, null, 2)}</pre>
                      </dd>
                    </>
                  )}
                </dl>
              )}
              <p className="muted">Select a step to see what it was given, what it returned and any error.</p>
            </div>
          ) : (
            selectedStep && (
              <section className="panel" aria-label={`Step ${selectedStep.id} in this run`}>
                <h2>
                  {selectedStep.id} <span className={`badge status-${selectedState?.status ?? 'pending'}`}>{selectedState?.status ?? 'pending'}</span>
                </h2>
                {selectedState?.waitingFor && <p>Waiting for {selectedState.waitingFor}</p>}
                {selectedState?.error && (
                  <div className="problems" role="alert" aria-label="Step error">
                    <strong>{selectedState.error.type}</strong>: {selectedState.error.message}
                  </div>
                )}
                <dl className="facts">
                  {selectedState?.startedAt && (
                    <>
                      <dt>Started</dt>
                      <dd>{new Date(selectedState.startedAt).toLocaleTimeString()}</dd>
                    </>
                  )}
                  {selectedState?.attempts !== undefined && (
                    <>
                      <dt>Attempts</dt>
                      <dd>{selectedState.attempts}</dd>
                    </>
                  )}
                  {selectedState?.lastError && !selectedState.error && (
                    <>
                      <dt>Last failed attempt</dt>
                      <dd>{selectedState.lastError.type}: {selectedState.lastError.message}</dd>
                    </>
                  )}
                </dl>
                <h3>{selectedState?.input !== undefined ? 'Inputs (as resolved in this run)' : 'Inputs (as configured)'}</h3>
                <pre aria-label="Step inputs">{JSON.stringify(selectedState?.input ?? inputsOf(selectedStep), null, 2)}</pre>
                {selectedState?.output !== undefined && (
                  <>
                    <h3>Output</h3>
                    <pre aria-label="Step output">{JSON.stringify(selectedState.output, null, 2)}</pre>
                  </>
                )}
                {selectedState?.status === 'waiting' && selectedStep.type === 'wait_for_event' && (
                  <DeliverEvent runId={runId} events={selectedStep.events ?? []} waitingFor={selectedState.waitingFor} onDelivered={() => setTick((t) => t + 1)} />
                )}
              </section>
            )
          )}
        </aside>
      </div>
    </div>
  );
}

function inputsOf(step: Record<string, any>): unknown {
  const { id: _id, type: _t, name: _n, ...rest } = step;
  return rest;
}

function Legend() {
  return (
    <ul className="legend" aria-label="Step status colours">
      {['pending', 'running', 'waiting', 'completed', 'failed', 'skipped'].map((s) => (
        <li key={s}>
          <span className={`swatch status-${s}`} /> {s === 'completed' ? 'done' : s}
        </li>
      ))}
    </ul>
  );
}

function DeliverEvent({ runId, events, waitingFor, onDelivered }: { runId: string; events: string[]; waitingFor?: string; onDelivered: () => void }) {
  // "case.resolved on case_123": the object the wait is about.
  const objectFromWait = waitingFor && / on (\S+)$/.exec(waitingFor)?.[1];
  const [type, setType] = useState(events[0] ?? '');
  const [objectId, setObjectId] = useState(objectFromWait ?? '');
  const [data, setData] = useState('{}');
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  return (
    <form
      className="deliver"
      aria-label="Deliver an event"
      onSubmit={async (e) => {
        e.preventDefault();
        try {
          await api.deliverEvent(runId, { id: `evt_editor_${Date.now().toString(36)}`, type, ...(objectId ? { objectId } : {}), data: JSON.parse(data || '{}') });
          setDone(true);
          setError(null);
          onDelivered();
        } catch (err) {
          setError(describe(err));
        }
      }}
    >
      <h3>Deliver an event</h3>
      <label className="field">
        Event type
        <select value={type} onChange={(e) => setType(e.target.value)}>
          {events.map((t) => (
            <option key={t}>{t}</option>
          ))}
        </select>
      </label>
      <label className="field">
        Object id
        <input className="mono" value={objectId} onChange={(e) => setObjectId(e.target.value)} />
      </label>
      <label className="field">
        Event data (JSON)
        <textarea className="mono" rows={4} value={data} onChange={(e) => setData(e.target.value)} />
      </label>
      {error && <div className="error-text" role="alert">{error}</div>}
      {done && <div role="status">Delivered.</div>}
      <button type="submit" className="primary">
        Deliver event
      </button>
    </form>
  );
}
