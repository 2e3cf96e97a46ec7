import { useEffect, useState } from 'react';

export interface Route {
  /** The first path part: 'sandboxes', 'approvals', … */
  view: string;
  /** What follows it: a sandbox id for 'sandboxes/<id>'. */
  param: string | null;
  query: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const text = hash.replace(/^#\/?/, '');
  const [path = '', search = ''] = text.split('?', 2);
  const [view = '', param = null] = path.split('/').filter(Boolean);
  return { view: view || 'sandboxes', param: param ? decodeURIComponent(param) : null, query: new URLSearchParams(search) };
}

export function useHashRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseHash(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

export function navigate(hash: string): void {
  window.location.hash = hash;
}
