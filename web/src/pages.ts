// The other pages: deployments, agents (resources per role, drain), the launch queue, create from JSON, sign-in.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { ApiError, appPath, call, setToken } from './api.js';
import { ActionButton, ErrorBox, when } from './common.js';
import { useEventsOf, useLive } from './live.js';
import { href } from './router.js';
import type { Agent, App, Deployment, QueueItem } from './types.js';

export function DeploymentsPage() {
  const { data, error } = useLive(() => call<Deployment[]>('GET', '/v2/deployments'), []);
  return html`<section>
    <h1>Deployments</h1>
    <${ErrorBox} error=${error} />
    ${data && data.length === 0 && html`<p class="muted">No deployment is running.</p>`}
    ${
      data &&
      data.length > 0 &&
      html`<div class="table">
        <table data-testid="deployments">
          <thead>
            <tr>
              <th>ID</th>
              <th>Apps</th>
              <th>Progress</th>
              <th class="wide">Actions</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            ${data.map(
              (d) =>
                html`<tr>
                  <td class="id">${d.id}</td>
                  <td class="id">
                    ${d.affectedApps.map((id) => html`<div><a href=${href('app', id)}>${id}</a></div>`)}
                  </td>
                  <td>
                    ${d.currentStep}/${d.totalSteps}
                    <progress max=${d.totalSteps} value=${d.currentStep}></progress>
                  </td>
                  <td class="wide">
                    ${d.currentActions.map((a) => html`<div>${a.action} ${a.app}</div>`)}
                  </td>
                  <td>
                    <${ActionButton}
                      label="Roll back"
                      confirm=${`Roll back deployment ${d.id}? A new deployment restores the previous state.`}
                      action=${() => call('DELETE', `/v2/deployments/${encodeURIComponent(d.id)}`)}
                    />
                    <${ActionButton}
                      label="Cancel"
                      kind="danger"
                      confirm=${`Cancel deployment ${d.id} where it stands (no rollback)?`}
                      action=${() =>
                        call('DELETE', `/v2/deployments/${encodeURIComponent(d.id)}?force=true`)}
                    />
                  </td>
                </tr>`,
            )}
          </tbody>
        </table>
      </div>`
    }
  </section>`;
}

const round = (n: number) => Math.round(n * 100) / 100;

/** How many ports ranges like `31000-31099` hold. */
function portCount(ranges: string[]): number {
  return ranges.reduce((sum, range) => {
    const [begin = 0, end = begin] = range.split('-').map(Number);
    return sum + end - begin + 1;
  }, 0);
}

/** Used and free per role (`*` = unreserved), one row each: cpus, mem, disk, ports. */
function RoleResources({ agent }: { agent: Agent }) {
  const rows = agent.resourcesByRole ?? [];
  const cell = (row: (typeof rows)[number], key: 'cpus' | 'mem' | 'disk') =>
    `${round(row.used[key])} / ${round(row.total[key])} (${round(row.free[key])} free)`;
  return html`<table class="roles" data-testid="role-resources">
    <thead>
      <tr>
        <th>Role</th>
        <th>CPUs used</th>
        <th>Mem used (MiB)</th>
        <th>Disk used (MiB)</th>
        <th>Ports used</th>
      </tr>
    </thead>
    <tbody>
      ${rows.map(
        (row) =>
          html`<tr data-role=${row.role}>
            <td>${row.role}</td>
            <td data-testid="role-cpus">${cell(row, 'cpus')}</td>
            <td>${cell(row, 'mem')}</td>
            <td>${cell(row, 'disk')}</td>
            <td>
              ${
                row.total.ports.length === 0
                  ? '—'
                  : `${portCount(row.used.ports)} / ${portCount(row.total.ports)} (${portCount(row.free.ports)} free)`
              }
            </td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

export function AgentsPage() {
  const { data, error, reload } = useLive(() => call<{ agents: Agent[] }>('GET', '/v2/agents'), []);
  // Pacer's `agent_drained_event`: a draining agent has nothing left on it.
  const drained = useEventsOf<{ agentId: string; hostname: string; timestamp: string }>(
    'agent_drained_event',
  );
  return html`<section>
    <h1>Agents</h1>
    <${ErrorBox} error=${error} />
    ${drained.map(
      (e) =>
        html`<p class="notice" data-testid="drained-event">
          ${e.hostname || e.agentId} reported drained ${when(e.timestamp)}: nothing runs there.
        </p>`,
    )}
    ${data && data.agents.length === 0 && html`<p class="muted">No agent has offered yet.</p>`}
    ${
      data &&
      data.agents.length > 0 &&
      html`<div class="table">
        <table data-testid="agents">
          <thead>
            <tr>
              <th>Agent</th>
              <th>State</th>
              <th>Resources by role: used / total (free)</th>
              <th class="wide">Attributes</th>
              <th>Tasks</th>
              <th class="wide">Last offer</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            ${data.agents.map(
              (a) =>
                html`<tr data-agent=${a.id}>
                  <td class="id">
                    ${a.hostname}
                    <div class="muted">${a.id}</div>
                  </td>
                  <td>
                    ${a.state}
                    ${
                      a.drain &&
                      html`<div class=${`status-${a.drain.state}`} data-testid="drain-state">
                        ${a.drain.state}
                      </div>`
                    }
                  </td>
                  <td><${RoleResources} agent=${a} /></td>
                  <td class="wide">
                    ${Object.entries(a.attributes).map(
                      ([k, v]) => html`<span class="label">${k}:${v}</span>`,
                    )}
                  </td>
                  <td>${a.runningTasks.length}</td>
                  <td class="wide">${when(a.lastHeartbeatAt)}</td>
                  <td>
                    ${
                      a.drain
                        ? html`<${ActionButton}
                            label="Undrain"
                            confirm=${`Put ${a.hostname} back in service?`}
                            action=${() =>
                              call('POST', `/v2/agents/${encodeURIComponent(a.id)}/undrain`)}
                            onDone=${reload}
                          />`
                        : html`<${ActionButton}
                            label="Drain"
                            kind="danger"
                            testId="drain"
                            confirm=${`Drain ${a.hostname}? Its tasks move to other agents.`}
                            action=${() => call('POST', `/v2/agents/${encodeURIComponent(a.id)}/drain`)}
                            onDone=${reload}
                          />`
                    }
                  </td>
                </tr>`,
            )}
          </tbody>
        </table>
      </div>`
    }
  </section>`;
}

export function QueuePage() {
  const { data, error } = useLive(() => call<{ queue: QueueItem[] }>('GET', '/v2/queue'), []);
  return html`<section>
    <h1>Launch queue</h1>
    <${ErrorBox} error=${error} />
    ${data && data.queue.length === 0 && html`<p class="muted">Nothing waits for an agent.</p>`}
    ${
      data &&
      data.queue.length > 0 &&
      html`<div class="table">
        <table data-testid="queue">
          <thead>
            <tr>
              <th>App</th>
              <th>Waiting</th>
              <th>Delay</th>
              <th>Why (agents refusing)</th>
            </tr>
          </thead>
          <tbody>
            ${data.queue.map(
              (q) =>
                html`<tr>
                  <td class="id"><a href=${href('app', q.app.id)}>${q.app.id}</a></td>
                  <td>${q.count}</td>
                  <td>${q.delay && !q.delay.overdue ? `${q.delay.timeLeftSeconds}s` : '—'}</td>
                  <td>
                    ${(q.processedOffersSummary?.rejectSummaryLastOffers ?? [])
                      .filter((r) => r.declined > 0)
                      .map((r) => html`<div>${r.reason}: ${r.declined} of ${r.processed}</div>`)}
                  </td>
                </tr>`,
            )}
          </tbody>
        </table>
      </div>`
    }
  </section>`;
}

const EXAMPLE = `{
  "id": "/hello",
  "instances": 1,
  "cpus": 0.1,
  "mem": 32,
  "cmd": "hello.wasm",
  "fetch": [{ "uri": "/v2/artifacts/sha256:<hex>/hello.wasm" }],
  "labels": {}
}`;

export function CreatePage() {
  const [text, setText] = useState(EXAMPLE);
  const [error, setError] = useState<Error | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (caught) {
      setError(new Error(`Not JSON: ${(caught as Error).message}`));
      return;
    }
    if (!window.confirm('Create this app?')) return;
    setBusy(true);
    try {
      const app = await call<App>('POST', '/v2/apps', body);
      location.hash = href('app', app.id);
    } catch (caught) {
      setError(caught as Error);
    } finally {
      setBusy(false);
    }
  };
  return html`<section>
    <h1>Create an app</h1>
    <p class="muted">An app definition in Marathon's JSON; the API checks it.</p>
    <form onSubmit=${(e: Event) => void submit(e)}>
      <textarea
        data-testid="app-json"
        aria-label="App JSON"
        spellcheck="false"
        value=${text}
        onInput=${(e: Event) => setText((e.target as HTMLTextAreaElement).value)}
      ></textarea>
      <${ErrorBox} error=${error} />
      <div class="actions">
        <button class="primary" type="submit" disabled=${busy} data-testid="create">Create</button>
      </div>
    </form>
  </section>`;
}

export function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const [secret, setSecret] = useState('');
  const [error, setError] = useState<Error | undefined>();
  const submit = async (event: Event) => {
    event.preventDefault();
    setToken(secret);
    try {
      await call('GET', '/v2/info');
      onSignedIn();
    } catch (caught) {
      setToken(null);
      setError(
        caught instanceof ApiError && caught.status === 401
          ? new Error('That token is not valid.')
          : (caught as Error),
      );
    }
  };
  return html`<section>
    <h1>Sign in</h1>
    <p class="muted">
      Authentication is on: sign in with an API token. It is kept for this tab only.
    </p>
    <form onSubmit=${(e: Event) => void submit(e)}>
      <input
        type="password"
        autocomplete="current-password"
        aria-label="Token"
        data-testid="token"
        value=${secret}
        onInput=${(e: Event) => setSecret((e.target as HTMLInputElement).value)}
      />
      <button class="primary" type="submit">Sign in</button>
      <${ErrorBox} error=${error} />
    </form>
  </section>`;
}

export { appPath };
