/** A tiny history router: the editor's paths are /, /workflows/new, /workflows/:id and /runs/:id. */
import { useEffect, useState } from 'react';

export type Route = { page: 'list' } | { page: 'workflow'; id: string | null } | { page: 'run'; runId: string };

export function parseRoute(path: string): Route {
  let m = /^\/workflows\/new\/?$/.exec(path);
  if (m) return { page: 'workflow', id: null };
  m = /^\/workflows\/([^/]+)\/?$/.exec(path);
  if (m) return { page: 'workflow', id: decodeURIComponent(m[1]) };
  m = /^\/runs\/([^/]+)\/?$/.exec(path);
  if (m) return { page: 'run', runId: decodeURIComponent(m[1]) };
  return { page: 'list' };
}

export function navigate(path: string): void {
  window.history.pushState(null, '', path);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.pathname));
  useEffect(() => {
    const onPop = () => setRoute(parseRoute(window.location.pathname));
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  return route;
}
