/** All workflows: name, trigger, live version, draft state, runs in the last day and how many failed. */
import { useEffect, useState } from 'react';
import { api, type RunDetail, type WorkflowRecord } from './api';
import { triggerSummary } from './canvas';
import { diffDefinitions } from './diff';
import { AppLink } from './app-link';
import { navigate } from './router';

interface Row {
  workflow: WorkflowRecord;
  draftState: string;
  runsToday: number | null;
  failuresToday: number | null;
}

const DAY = 24 * 60 * 60 * 1000;

async function rowFor(w: WorkflowRecord): Promise<Row> {
  let draftState = 'draft only';
  if (w.liveVersion) {
    const versions = await api.versions(w.id).catch(() => null);
    const live = versions?.versions.find((v) => v.live);
    if (live) {
      const d = diffDefinitions(live.definition, w.definition);
      draftState = d.trigger || d.other || d.added.length + d.removed.length + d.changed.length > 0 ? 'unpublished changes' : 'same as live';
    }
  }
  let runs: RunDetail[] | null = null;
  try {
    runs = await api.runs(w.id, 500);
  } catch {
    runs = null;
  }
  const recent = runs?.filter((r) => Date.now() - Date.parse(r.startedAt) < DAY) ?? null;
  return { workflow: w, draftState, runsToday: recent?.length ?? null, failuresToday: recent?.filter((r) => r.status === 'failed').length ?? null };
}

export function ListPage() {
  const [rows, setRows] = useState<Row[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api
      .workflows()
      .then((ws) => Promise.all(ws.map(rowFor)))
      .then(setRows, (e) => setError((e as Error).message));
  }, []);
  return (
    <main className="list-page">
      <header className="list-header">
        <h1>Workflows</h1>
        <button type="button" className="primary" onClick={() => navigate('/workflows/new')}>
          New workflow
        </button>
      </header>
      {error && <div className="message error" role="alert">{error}</div>}
      {!rows && !error && <p>Loading…</p>}
      {rows && rows.length === 0 && <p>No workflows yet. Make the first one with “New workflow”.</p>}
      {rows && rows.length > 0 && (
        <table className="table" aria-label="Workflows">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Trigger</th>
              <th scope="col">Live version</th>
              <th scope="col">Draft</th>
              <th scope="col">Runs (24 h)</th>
              <th scope="col">Failures (24 h)</th>
            </tr>
          </thead>
          <tbody>
            {rows.map(({ workflow: w, draftState, runsToday, failuresToday }) => (
              <tr key={w.id}>
                <td>
                  <AppLink to={`/workflows/${w.id}`}>
                    {w.name}
                  </AppLink>
                  <div className="mono muted">{w.id}</div>
                </td>
                <td>{triggerSummary(w.definition?.trigger ?? {})}</td>
                <td>{w.liveVersion ? `v${w.liveVersion}` : '—'}</td>
                <td>{draftState}</td>
                <td>{runsToday ?? '?'}</td>
                <td className={failuresToday ? 'bad' : undefined}>{failuresToday ?? '?'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}
