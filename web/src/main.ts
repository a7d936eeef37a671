// Pacer's web UI: a Preact + htm single page served at /ui by the master, bundled at build
// time (web/build.ts). Live from `/v2/events`; sign-in with a token when authentication is on.
import { html } from 'htm/preact';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { onUnauthorized, setToken, token } from './api.js';
import { AppPage } from './app-page.js';
import { AppsPage } from './apps-page.js';
import { startLive, useConnected } from './live.js';
import { AgentsPage, CreatePage, DeploymentsPage, QueuePage, SignIn } from './pages.js';
import type { Route } from './router.js';
import { href, useRoute } from './router.js';

const NAV: [Route['page'], string][] = [
  ['apps', 'Apps'],
  ['deployments', 'Deployments'],
  ['agents', 'Agents'],
  ['queue', 'Queue'],
];

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'app':
      return html`<${AppPage} key=${route.id} id=${route.id} />`;
    case 'deployments':
      return html`<${DeploymentsPage} />`;
    case 'agents':
      return html`<${AgentsPage} />`;
    case 'queue':
      return html`<${QueuePage} />`;
    case 'create':
      return html`<${CreatePage} />`;
    case 'apps':
      return html`<${AppsPage} />`;
  }
}

function Shell() {
  const route = useRoute();
  const isConnected = useConnected();
  const [needsSignIn, setNeedsSignIn] = useState(false);
  const [session, setSession] = useState(0);
  useEffect(() => onUnauthorized(() => setNeedsSignIn(true)), []);
  useEffect(() => startLive(), [session]);
  const signOut = () => {
    setToken(null);
    setNeedsSignIn(true);
  };
  return html`<header>
      <strong>Pacer</strong>
      <nav>
        ${NAV.map(
          ([page, label]) =>
            html`<a href=${href(page)} class=${route.page === page ? 'active' : ''}>${label}</a>`,
        )}
      </nav>
      <span class="live" data-testid="live">${isConnected ? '● live' : '○ offline'}</span>
      ${token() && html`<button onClick=${signOut}>Sign out</button>`}
    </header>
    <main>
      ${
        needsSignIn
          ? html`<${SignIn}
              onSignedIn=${() => {
                setNeedsSignIn(false);
                setSession((n) => n + 1);
              }}
            />`
          : html`<${Page} key=${session} route=${route} />`
      }
    </main>`;
}

const root = document.getElementById('app');
if (root) render(html`<${Shell} />`, root);
