// Draining an agent end to end (Mesos's maintenance mode) over real Postgres and Redis: a master
// and two agent processes (`pacer dev` runs one agent on its in-process bus, so two need Redis).
// The drained agent's instances are started elsewhere before they are killed, it takes no new
// placements, it is reported drained once empty, the drain outlives a master restart, and
// `pacer agent drain|undrain` drive it.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  followStatusEvents,
  prepareCluster,
  startPacer,
  tempDir,
  waitFor,
  waitForApi,
  type ClusterSetup,
  type PacerProcess,
} from './support/cluster.js';
import { hasService } from './support/services.js';

const ok = (await hasService('postgres')) && (await hasService('redis'));
const SERVICE_WASM = path.resolve('wasm-tasks/build/service.wasm');

interface AgentJson {
  id: string;
  hostname: string;
  runningTasks: string[];
  drain?: { state: 'draining' | 'drained'; since: string };
}

describe.skipIf(!ok)('draining an agent', () => {
  let setup: ClusterSetup;
  let master: PacerProcess;
  const agents: PacerProcess[] = [];

  const api = () => setup.api;
  const startMaster = async () => {
    master = startPacer(['master', '--port', String(setup.port), '--host', '127.0.0.1'], setup.env);
    await waitForApi(setup.api.url, master);
  };
  const listAgents = async () => (await api().get('/v2/agents')).body.agents as AgentJson[];
  const tasksOf = async (appId: string) =>
    (await api().get(`/v2/apps${appId}/tasks`)).body.tasks as {
      id: string;
      host: string;
      state: string;
    }[];

  function pacer(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        ['bin/pacer.js', ...args],
        { env: { ...process.env, PACER_URL: setup.api.url, PACER_CONFIG: '/nonexistent' } },
        (error, stdout, stderr) =>
          resolve({
            code: error ? Number((error as { code?: number }).code ?? 1) : 0,
            stdout,
            stderr,
          }),
      );
    });
  }

  beforeAll(async () => {
    setup = await prepareCluster({
      PACER_OFFER_INTERVAL_MS: '300',
      PACER_AGENT_TIMEOUT_MS: '5000',
    });
    await startMaster();
    for (const n of [1, 2]) {
      agents.push(
        startPacer(
          [
            'agent',
            '--hostname',
            `drain-${n}`,
            '--resources',
            // Ports of their own: both run on this machine, and a Wasm service binds its ports.
            `cpus:2,mem:512,disk:1024,ports:[${31100 + n * 100}-${31150 + n * 100}]`,
            '--work-dir',
            await tempDir(`pacer-drain-${n}`),
          ],
          setup.env,
        ),
      );
    }
    await waitFor('two agents', async () => (await listAgents()).length === 2);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([...agents, master].filter(Boolean).map((p) => p.stop()));
    await setup?.db.drop();
  });

  it('replaces the instances elsewhere, new before old, and reports the agent drained', async () => {
    const bytes = await readFile(SERVICE_WASM);
    const uploaded = await api().post('/v2/artifacts', new Uint8Array(bytes), {
      'content-type': 'application/wasm',
    });
    const created = await api().post('/v2/apps', {
      id: '/drain/web',
      instances: 2,
      cpus: 0.1,
      mem: 16,
      fetch: [{ uri: `${uploaded.body.uri as string}/service.wasm` }],
      cmd: 'service.wasm 100',
      // One per agent, so the drained one surely runs one; GROUP_BY is a soft spread.
      upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 1 },
    });
    expect(created.status).toBe(201);
    const before = await waitFor('2 running tasks', async () => {
      const tasks = await tasksOf('/drain/web');
      return tasks.length === 2 && tasks.every((t) => t.state === 'TASK_RUNNING') && tasks;
    });
    const victimHost = before[0]?.host as string;
    const victim = (await listAgents()).find((a) => a.hostname === victimHost) as AgentJson;
    const onVictim = before.filter((t) => t.host === victimHost).map((t) => t.id);

    const events = await followStatusEvents(setup.api.url);
    const drainedEvents = await followStatusEvents(setup.api.url, 'agent_drained_event');
    const drained = await pacer(['agent', 'drain', victim.id]);
    expect(drained.stderr).toBe('');
    expect(drained.code).toBe(0);
    expect(drained.stdout).toMatch(new RegExp(`^${victim.id} draining since \\S+Z$`, 'm'));

    const after = await waitFor('the app entirely off the drained agent', async () => {
      const tasks = await tasksOf('/drain/web');
      return (
        tasks.length === 2 &&
        tasks.every((t) => t.state === 'TASK_RUNNING' && t.host !== victimHost) &&
        tasks
      );
    });
    expect(after).toHaveLength(2);
    // minimumHealthCapacity 1: each old task is killed only after a replacement runs.
    const seen = await events.until((all) =>
      onVictim.every((id) => all.some((e) => e.taskId === id && e.taskStatus === 'TASK_KILLED')),
    );
    const firstKill = seen.findIndex(
      (e) => onVictim.includes(e.taskId) && e.taskStatus === 'TASK_KILLED',
    );
    const replacementsRunning = seen
      .slice(0, firstKill)
      .filter((e) => e.taskStatus === 'TASK_RUNNING' && !before.some((t) => t.id === e.taskId));
    expect(replacementsRunning.length).toBeGreaterThanOrEqual(1);

    const reported = await waitFor('the agent reported drained', async () => {
      const agent = (await listAgents()).find((a) => a.id === victim.id);
      return agent?.drain?.state === 'drained' && agent;
    });
    expect(reported.runningTasks).toEqual([]);
    // Reported on the event stream too, with the drain's `since`.
    const [drainedEvent] = await drainedEvents.until((all) => all.length > 0);
    expect(drainedEvent).toMatchObject({
      eventType: 'agent_drained_event',
      agentId: victim.id,
      hostname: victimHost,
      since: reported.drain?.since,
    });
    const other = (await listAgents()).find((a) => a.id !== victim.id) as AgentJson;
    expect(other.drain).toBeUndefined();

    // No new placements: a scale-up lands on the other agent only.
    expect((await api().put('/v2/apps/drain/web', { instances: 3 })).status).toBe(200);
    const scaled = await waitFor('3 running tasks', async () => {
      const tasks = await tasksOf('/drain/web');
      return tasks.length === 3 && tasks.every((t) => t.state === 'TASK_RUNNING') && tasks;
    });
    expect(scaled.every((t) => t.host === other.hostname)).toBe(true);
  }, 90_000);

  it('keeps the drain across a master restart, and undrain puts the agent back in service', async () => {
    const victim = (await listAgents()).find((a) => a.drain) as AgentJson;
    await master.stop();
    await startMaster();
    const kept = await waitFor('the agents after the restart', async () => {
      const list = await listAgents();
      return list.length === 2 && list;
    });
    expect(kept.find((a) => a.id === victim.id)?.drain?.state).toMatch(/^(draining|drained)$/);

    const undrained = await pacer(['agent', 'undrain', victim.id]);
    expect(undrained.code).toBe(0);
    expect(undrained.stdout.trim()).toBe(`${victim.id} in service`);
    expect((await listAgents()).every((a) => a.drain === undefined)).toBe(true);

    // It takes placements again: with the other agent's ports excluded, only it fits.
    expect((await api().put('/v2/apps/drain/web', { instances: 6 })).status).toBe(200);
    await waitFor('a task on the undrained agent', async () =>
      (await tasksOf('/drain/web')).some(
        (t) => t.host === victim.hostname && t.state === 'TASK_RUNNING',
      ),
    );
  }, 90_000);

  it('answers 404 for an unknown agent and for an id outside the pattern', async () => {
    expect((await api().post('/v2/agents/no-such-agent/drain')).status).toBe(404);
    expect((await api().post('/v2/agents/__proto__/undrain')).status).toBe(404);
    expect((await api().post('/v2/agents/toString/drain')).status).toBe(404);
    const bad = await pacer(['agent', 'drain', 'no-such-agent']);
    expect(bad.code).not.toBe(0);
  });
});
