/** The editor's shell: sign-in, then the workflow list, a workflow on the canvas, or a run. */
import { useEffect, useState } from 'react';
import { currentUser, login, logout, onUnauthenticated, type User } from './api';
import { EditorPage } from './editor-page';
import { ListPage } from './list-page';
import { useRoute } from './router';
import { RunPage } from './run-page';

export function App() {
  const [user, setUser] = useState<User | null | 'open' | undefined>(undefined);
  const route = useRoute();
  useEffect(() => {
    currentUser().then(setUser, () => setUser(null));
    return onUnauthenticated(() => setUser(null));
  }, []);
  if (user === undefined) return <p className="muted center">Loading…</p>;
  if (user === null) return <Login onSignedIn={setUser} />;
  return (
    <div className="app">
      <header className="app-header">
        <span className="brand">Identity workflows</span>
        <span className="spacer" />
        {user !== 'open' && (
          <>
            <span className="muted" aria-label="Signed in as">
              {user.email} ({user.role})
            </span>
            <button type="button" className="link-button" onClick={() => logout().then(() => setUser(null))}>
              Sign out
            </button>
          </>
        )}
      </header>
      {route.page === 'list' && <ListPage />}
      {route.page === 'workflow' && <EditorPage key={route.id ?? 'new'} workflowId={route.id} />}
      {route.page === 'run' && <RunPage key={route.runId} runId={route.runId} />}
    </div>
  );
}

function Login({ onSignedIn }: { onSignedIn: (u: User) => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  return (
    <main className="login">
      <form
        aria-label="Sign in"
        onSubmit={async (e) => {
          e.preventDefault();
          try {
            onSignedIn(await login(email, password));
          } catch (err) {
            setError((err as Error).message);
          }
        }}
      >
        <h1>Sign in</h1>
        <label className="field">
          Email
          <input type="email" autoComplete="username" value={email} onChange={(e) => setEmail(e.target.value)} required autoFocus />
        </label>
        <label className="field">
          Password
          <input type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
        </label>
        {error && <div className="error-text" role="alert">{error}</div>}
        <button type="submit" className="primary">
          Sign in
        </button>
      </form>
    </main>
  );
}
