// One app: its tasks (agent, ports, state, health, fuel used), versions, the running deployment's progress,
// its logs (tail, follow) and the actions on it (scale, restart, suspend, destroy, kill a task).
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { appPath, call, readEvents } from './api.js';
import { statusOf } from './apps-page.js';
import { ActionButton, ErrorBox, Labels, when } from './common.js';
import { useLive } from './live.js';
import { href } from './router.js';
import type { App, Deployment, LogLine, Task } from './types.js';

const FUEL_REFRESH_MS = 3_000;

function health(task: Task): string {
  const results = task.healthCheckResults ?? [];
  if (results.length === 0) return '—';
  return results.every((r) => r.alive) ? 'healthy' : 'unhealthy';
}

export function AppPage({ id }: { id: string }) {
  const app = useLive(() => call<{ app: App }>('GET', appPath(id)), [id]);
  // `fuel=true`: Pacer's own `fuelUsed` on each metered task (Marathon's Task JSON has none).
  // Fuel climbs with no event to tell of it (agents report it with their offers, each second),
  // so the tasks are also re-read every few seconds.
  const tasks = useLive(
    () => call<{ tasks: Task[] }>('GET', `${appPath(id)}/tasks?fuel=true`),
    [id],
    FUEL_REFRESH_MS,
  );
  const versions = useLive(
    () => call<{ versions: string[] }>('GET', `${appPath(id)}/versions`),
    [id],
  );
  const deployments = useLive(() => call<Deployment[]>('GET', '/v2/deployments'), [id]);
  const [scaleTo, setScaleTo] = useState('');
  const [logTask, setLogTask] = useState<string | undefined>();
  const current = app.data?.app;
  const taskList = tasks.data?.tasks ?? [];
  const running = (deployments.data ?? []).filter((d) => d.affectedApps.includes(id));
  const shownLogTask =
    logTask && taskList.some((t) => t.id === logTask) ? logTask : taskList[0]?.id;

  if (app.error && !current) return html`<${ErrorBox} error=${app.error} />`;
  if (!current) return html`<p class="muted">Loading…</p>`;
  const toApps = () => (location.hash = href('apps'));
  return html`<section>
    <h1 data-testid="app-id">${current.id}</h1>
    <p>
      <span class=${`status-${statusOf(current)}`} data-testid="app-status"
        >${statusOf(current)}</span
      >${' · '}<span data-testid="app-running">${current.tasksRunning ?? 0}</span
      >${` of ${current.instances} running · ${current.cpus} CPUs · ${current.mem} MiB · `}
      <${Labels} labels=${current.labels} />
    </p>
    <div class="actions">
      <input
        type="number"
        min="0"
        aria-label="Instances"
        data-testid="scale-input"
        value=${scaleTo}
        onInput=${(e: Event) => setScaleTo((e.target as HTMLInputElement).value)}
      />
      <${ActionButton}
        label="Scale"
        testId="scale"
        confirm=${`Scale ${current.id} to ${scaleTo} instances?`}
        action=${() => call('PUT', appPath(id), { instances: Number(scaleTo) })}
      />
      <${ActionButton}
        label="Restart"
        confirm=${`Restart every task of ${current.id}?`}
        action=${() => call('POST', `${appPath(id)}/restart`)}
      />
      <${ActionButton}
        label="Suspend"
        confirm=${`Suspend ${current.id} (scale to 0)?`}
        action=${() => call('PUT', appPath(id), { instances: 0 })}
      />
      <${ActionButton}
        label="Destroy"
        kind="danger"
        testId="destroy"
        confirm=${`Destroy ${current.id}? Its tasks are killed.`}
        action=${() => call('DELETE', appPath(id))}
        onDone=${toApps}
      />
    </div>

    ${running.map(
      (d) =>
        html`<div class="deployment" data-testid="deployment-progress">
          Deployment <code>${d.id}</code>: step ${d.currentStep} of ${d.totalSteps}
          <progress max=${d.totalSteps} value=${d.currentStep}></progress>
          ${d.currentActions.map((a) => html`<span class="label">${a.action} ${a.app}</span>`)}
        </div>`,
    )}

    <h2>Tasks</h2>
    <${ErrorBox} error=${tasks.error} />
    <div class="table">
      <table data-testid="tasks">
        <thead>
          <tr>
            <th>ID</th>
            <th>Agent</th>
            <th class="wide">Ports</th>
            <th>State</th>
            <th class="wide">Health</th>
            <th>Fuel used</th>
            <th class="wide">Started</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          ${taskList.map(
            (t) =>
              html`<tr data-task=${t.id}>
                <td class="id">
                  <button class="link" title="Show its logs" onClick=${() => setLogTask(t.id)}>
                    ${t.id}
                  </button>
                </td>
                <td>${t.host}</td>
                <td class="wide">${(t.ports ?? []).join(', ')}</td>
                <td data-testid="task-state">${t.state}</td>
                <td class="wide">${health(t)}</td>
                <td class="num" data-testid="task-fuel">
                  ${t.fuelUsed === undefined ? '—' : t.fuelUsed.toLocaleString('en')}
                </td>
                <td class="wide">${when(t.startedAt ?? t.stagedAt)}</td>
                <td>
                  <${ActionButton}
                    label="Kill"
                    kind="danger"
                    confirm=${`Kill task ${t.id}? It is replaced.`}
                    action=${() =>
                      call('DELETE', `${appPath(id)}/tasks/${encodeURIComponent(t.id)}`)}
                  />
                </td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>

    ${shownLogTask && html`<${Logs} key=${shownLogTask} taskId=${shownLogTask} />`}

    <h2>Versions</h2>
    <ul>
      ${(versions.data?.versions ?? []).slice(0, 20).map((v) => html`<li>${when(v)}</li>`)}
    </ul>
  </section>`;
}

const MAX_LINES = 2_000;

/** The task's last lines, then (following) the new ones as they come. */
function Logs({ taskId }: { taskId: string }) {
  const [lines, setLines] = useState<LogLine[]>([]);
  const [fuel, setFuel] = useState<number | undefined>();
  const [error, setError] = useState<Error | undefined>();
  const [isFollowing, setFollowing] = useState(false);
  const box = useRef<HTMLPreElement>(null);

  useEffect(() => {
    const path = `/v2/tasks/${encodeURIComponent(taskId)}/logs`;
    if (!isFollowing) {
      call<{ lines: LogLine[]; fuelUsed?: number }>('GET', `${path}?tail=200`).then(
        (answer) => {
          setLines(answer.lines);
          setFuel(answer.fuelUsed);
        },
        (caught: unknown) => setError(caught as Error),
      );
      return undefined;
    }
    const controller = new AbortController();
    setLines([]);
    readEvents(`${path}?follow=true&tail=200`, {
      signal: controller.signal,
      onEvent: (type, data) => {
        if (type !== 'log') return;
        const line = JSON.parse(data) as LogLine;
        setLines((old) => [...old.slice(-(MAX_LINES - 1)), line]);
      },
    }).catch((caught: unknown) => {
      if (!controller.signal.aborted) setError(caught as Error);
    });
    return () => controller.abort();
  }, [taskId, isFollowing]);

  useEffect(() => {
    if (box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [lines]);

  return html`<section>
    <h2>Logs of <code>${taskId}</code></h2>
    <div class="actions">
      <button data-testid="follow" onClick=${() => setFollowing(!isFollowing)}>
        ${isFollowing ? 'Stop following' : 'Follow'}
      </button>
      ${fuel !== undefined && html`<span class="muted">fuel used: ${fuel}</span>`}
    </div>
    <${ErrorBox} error=${error} />
    <pre class="logs" ref=${box} data-testid="logs">
${lines.map((l) => (l.stream === 'stderr' ? `[stderr] ${l.line}` : l.line)).join('\n')}</pre>
  </section>`;
}
