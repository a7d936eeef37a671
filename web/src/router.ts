// Hash routes: `#/apps`, `#/app/<id>`, `#/deployments`, `#/agents`, `#/queue`, `#/create`.
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { page: 'apps' }
  | { page: 'app'; id: string }
  | { page: 'deployments' }
  | { page: 'agents' }
  | { page: 'queue' }
  | { page: 'create' };

export function parseRoute(hash: string): Route {
  const [, page = 'apps', ...rest] = hash.replace(/^#/, '').split('/');
  switch (page) {
    case 'app':
      return { page: 'app', id: decodeURIComponent(rest.join('/')) };
    case 'deployments':
    case 'agents':
    case 'queue':
    case 'create':
      return { page };
    default:
      return { page: 'apps' };
  }
}

export function href(page: Route['page'], id?: string): string {
  return id === undefined ? `#/${page}` : `#/${page}/${encodeURIComponent(id)}`;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
