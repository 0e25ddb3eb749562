/** The draft against the live version: which steps were added, removed or changed, with both sides of each change. */
import { Dialog } from './dialog';
import type { VersionInfo } from './api';
import type { Obj } from './graph';

function stable(value: unknown): string {
  const sort = (v: any): any => (Array.isArray(v) ? v.map(sort) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort(v[k])])) : v);
  return JSON.stringify(sort(value), null, 2);
}

export interface DefinitionDiff {
  trigger: boolean;
  added: string[];
  removed: string[];
  changed: { id: string; before: Obj; after: Obj }[];
  other: boolean;
}

export function diffDefinitions(live: Obj, draft: Obj): DefinitionDiff {
  const byId = (d: Obj) => new Map<string, Obj>((d.steps ?? []).map((s: Obj) => [s.id, s]));
  const a = byId(live);
  const b = byId(draft);
  const { steps: _a, trigger: ta, ...restA } = live;
  const { steps: _b, trigger: tb, ...restB } = draft;
  return {
    trigger: stable(ta) !== stable(tb),
    added: [...b.keys()].filter((k) => !a.has(k)),
    removed: [...a.keys()].filter((k) => !b.has(k)),
    changed: [...b.keys()].filter((k) => a.has(k) && stable(a.get(k)) !== stable(b.get(k))).map((id) => ({ id, before: a.get(id)!, after: b.get(id)! })),
    other: stable(restA) !== stable(restB),
  };
}

export function DiffView({ draft, live, liveVersion, onClose, versions, canRollback, onRollback }: { draft: Obj; live: Obj; liveVersion: number; onClose: () => void; versions: VersionInfo[]; canRollback: boolean; onRollback: (v: number) => void }) {
  const d = diffDefinitions(live, draft);
  const same = !d.trigger && !d.other && d.added.length + d.removed.length + d.changed.length === 0;
  return (
    <Dialog title={`Draft compared with live version ${liveVersion}`} onClose={onClose} wide>
      {same ? (
        <p>The draft is the same as the live version.</p>
      ) : (
        <div className="diff">
          {d.trigger && (
            <section>
              <h3>Trigger changed</h3>
              <div className="two-col">
                <pre className="before">{stable(live.trigger)}</pre>
                <pre className="after">{stable(draft.trigger)}</pre>
              </div>
            </section>
          )}
          {d.added.length > 0 && (
            <p>
              <strong>Added:</strong> {d.added.join(', ')}
            </p>
          )}
          {d.removed.length > 0 && (
            <p>
              <strong>Removed:</strong> {d.removed.join(', ')}
            </p>
          )}
          {d.other && <p><strong>Flow settings changed.</strong></p>}
          {d.changed.map((c) => (
            <section key={c.id}>
              <h3>Changed: {c.id}</h3>
              <div className="two-col">
                <pre className="before" aria-label={`${c.id} live`}>{stable(c.before)}</pre>
                <pre className="after" aria-label={`${c.id} draft`}>{stable(c.after)}</pre>
              </div>
            </section>
          ))}
        </div>
      )}
      {canRollback && versions.length > 1 && (
        <section>
          <h3>Roll back</h3>
          {versions.filter((v) => !v.live).map((v) => (
            <button key={v.version} type="button" onClick={() => onRollback(v.version)}>
              Make v{v.version} live again
            </button>
          ))}
        </section>
      )}
    </Dialog>
  );
}
