// The apps as a tree of groups (from their ids), with status, instances and resources.
import { html } from 'htm/preact';
import { call } from './api.js';
import { ErrorBox, Labels } from './common.js';
import { useLive } from './live.js';
import { href } from './router.js';
import type { App } from './types.js';

/** Marathon's app status as its UI showed it. */
export function statusOf(app: App): string {
  if ((app.deployments ?? []).length > 0) return 'Deploying';
  if (app.instances === 0) return 'Suspended';
  if ((app.tasksRunning ?? 0) >= app.instances) return 'Running';
  return 'Waiting';
}

type Row = { kind: 'group'; id: string; depth: number } | { kind: 'app'; app: App; depth: number };

/** Rows in id order: each group once before its first app, indented by depth. */
export function treeRows(apps: App[]): Row[] {
  const rows: Row[] = [];
  const seen = new Set<string>();
  for (const app of [...apps].sort((a, b) => a.id.localeCompare(b.id))) {
    const parts = app.id.split('/').filter(Boolean);
    for (let depth = 1; depth < parts.length; depth++) {
      const group = `/${parts.slice(0, depth).join('/')}`;
      if (seen.has(group)) continue;
      seen.add(group);
      rows.push({ kind: 'group', id: group, depth: depth - 1 });
    }
    rows.push({ kind: 'app', app, depth: parts.length - 1 });
  }
  return rows;
}

export function AppsPage() {
  const { data, error } = useLive(() => call<{ apps: App[] }>('GET', '/v2/apps'), []);
  const apps = data?.apps ?? [];
  return html`<section>
    <h1>Apps</h1>
    <div class="actions">
      <a href=${href('create')}><button class="primary">Create app</button></a>
    </div>
    <${ErrorBox} error=${error} />
    ${data && apps.length === 0 && html`<p class="muted">No apps yet.</p>`}
    ${
      apps.length > 0 &&
      html`<div class="table">
        <table data-testid="apps">
          <thead>
            <tr>
              <th>ID</th>
              <th>Status</th>
              <th>Running</th>
              <th class="wide">Staged</th>
              <th class="wide">Healthy</th>
              <th class="wide">Unhealthy</th>
              <th class="wide">CPUs</th>
              <th class="wide">Mem</th>
              <th class="wide">Labels</th>
            </tr>
          </thead>
          <tbody>
            ${treeRows(apps).map((row) =>
              row.kind === 'group'
                ? html`<tr class="group">
                    <td class=${`id depth-${Math.min(row.depth, 3)}`} colspan="9">${row.id}/</td>
                  </tr>`
                : html`<tr data-app=${row.app.id}>
                    <td class=${`id depth-${Math.min(row.depth, 3)}`}>
                      <a href=${href('app', row.app.id)}>${row.app.id}</a>
                    </td>
                    <td class=${`status-${statusOf(row.app)}`}>${statusOf(row.app)}</td>
                    <td>${row.app.tasksRunning ?? 0} / ${row.app.instances}</td>
                    <td class="wide">${row.app.tasksStaged ?? 0}</td>
                    <td class="wide">${row.app.tasksHealthy ?? 0}</td>
                    <td class="wide">${row.app.tasksUnhealthy ?? 0}</td>
                    <td class="wide">${row.app.cpus}</td>
                    <td class="wide">${row.app.mem} MiB</td>
                    <td class="wide"><${Labels} labels=${row.app.labels} /></td>
                  </tr>`,
            )}
          </tbody>
        </table>
      </div>`
    }
  </section>`;
}
