// The edges of the API: ping, info, artifacts, agents, logs, body limits, wrong methods.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { currentTaskId, type Agent } from '../src/domain/index.js';
import { createTestApi, instanceOf } from './support/api-doubles.js';
import type { TestApi } from './support/api-doubles.js';
import { waitFor } from './support/wait-for.js';

let api: TestApi;
beforeAll(async () => {
  api = await createTestApi({ maxBodyBytes: 4096, maxArtifactBytes: 64 * 1024 });
});
afterAll(async () => {
  await api.close();
});

describe('/ping and /v2/info', () => {
  it('answers pong as text', async () => {
    const res = await api.app.request('/ping');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('pong');
  });

  it('answers info with the objects Marathon clients read', async () => {
    const info = (await (await api.app.request('/v2/info')).json()) as Record<string, unknown>;
    expect(info).toMatchObject({
      name: 'pacer',
      // The Marathon API level clients gate features on; Pacer's own version is the buildref.
      version: '1.10.0',
      buildref: '0.1.0',
      elected: true,
      leader: 'master.test:8080',
      zookeeper_config: {},
      http_config: { http_port: 8080 },
    });
    expect(typeof info.frameworkId).toBe('string');
    expect(typeof info.marathon_config).toBe('object');
  });

  it('lists no plugins', async () => {
    const res = await api.app.request('/v2/plugins');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ plugins: [] });
  });
});

describe('/v2/artifacts', () => {
  const bytes = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
  const hex = createHash('sha256').update(bytes).digest('hex');

  it('stores a module by sha256 and answers 201 {uri, digest, size}', async () => {
    const res = await api.app.request('/v2/artifacts', {
      method: 'POST',
      headers: { 'Content-Type': 'application/wasm' },
      body: bytes,
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({
      uri: `http://master.test:8080/v2/artifacts/sha256:${hex}`,
      digest: `sha256:${hex}`,
      size: 8,
    });
  });

  it('serves the bytes by digest, with or without a file name, and lists them', async () => {
    for (const path of [`/v2/artifacts/sha256:${hex}`, `/v2/artifacts/sha256:${hex}/hello.wasm`]) {
      const res = await api.app.request(path);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/wasm');
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
    }
    const list = (await (await api.app.request('/v2/artifacts')).json()) as {
      artifacts: { digest: string }[];
    };
    expect(list.artifacts.map((a) => a.digest)).toContain(`sha256:${hex}`);
  });

  it('answers 404 JSON for an unknown digest and 413 JSON beyond the upload limit', async () => {
    const missing = await api.app.request(`/v2/artifacts/sha256:${'0'.repeat(64)}`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      message: `Artifact 'sha256:${'0'.repeat(64)}' does not exist`,
    });
    const big = await api.app.request('/v2/artifacts', {
      method: 'POST',
      headers: { 'Content-Type': 'application/wasm' },
      body: new Uint8Array(65 * 1024),
    });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { message: string }).message).toMatch(/larger than/);
  });
});

describe('body limits and methods', () => {
  it('answers 413 JSON for a JSON body over the limit', async () => {
    const res = await api.json('POST', '/v2/apps', { id: '/big', cmd: 'x'.repeat(5000) });
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
  });

  it('answers 405 JSON for a known path with another method', async () => {
    const res = await api.json('POST', '/v2/info', {});
    expect(res.status).toBe(405);
    expect(await res.json()).toEqual({ message: 'HTTP 405 Method Not Allowed' });
  });
});

describe('/v2/agents', () => {
  /** An active agent registered at a fixed time, with nothing running: `fields` on top. */
  const agentOf = (
    fields: Pick<Agent, 'agentId' | 'hostname' | 'total' | 'free'> & Partial<Agent>,
  ) =>
    ({
      attributes: {},
      capabilities: ['wasm'],
      runningTaskIds: [],
      registeredAt: '2026-01-02T03:04:05.678Z',
      lastHeartbeatAt: '2026-01-02T03:04:06.678Z',
      state: 'active',
      ...fields,
    }) satisfies Agent;

  it('lists agents with resources, attributes and running tasks', async () => {
    await api.store.agents.put({
      agentId: 'agent-1',
      hostname: 'edge-1',
      attributes: { zone: 'eu' },
      capabilities: ['wasm'],
      total: { cpus: 2, memMiB: 1024, diskMiB: 4096, ports: [[31000, 32000]] },
      free: { cpus: 1, memMiB: 512, diskMiB: 4096, ports: [[31001, 32000]] },
      runningTaskIds: ['t1'],
      registeredAt: '2026-01-02T03:04:05.678Z',
      lastHeartbeatAt: '2026-01-02T03:04:06.678Z',
      state: 'active',
    });
    const { agents } = (await (await api.app.request('/v2/agents')).json()) as {
      agents: unknown[];
    };
    expect(agents).toEqual([
      {
        id: 'agent-1',
        hostname: 'edge-1',
        state: 'active',
        attributes: { zone: 'eu' },
        capabilities: ['wasm'],
        resources: { cpus: 2, mem: 1024, disk: 4096, ports: ['31000-32000'] },
        free: { cpus: 1, mem: 512, disk: 4096, ports: ['31001-32000'] },
        // Nothing the master placed there; the agent's own free figure lowers what is free.
        resourcesByRole: [
          {
            role: '*',
            total: { cpus: 2, mem: 1024, disk: 4096, ports: ['31000-32000'] },
            used: { cpus: 1, mem: 512, disk: 0, ports: [] },
            free: { cpus: 1, mem: 512, disk: 4096, ports: ['31000-32000'] },
          },
        ],
        runningTasks: ['t1'],
        registeredAt: '2026-01-02T03:04:05.678Z',
        lastHeartbeatAt: '2026-01-02T03:04:06.678Z',
      },
    ]);
  });

  it('shows used and free per role: unreserved first, then each reservation', async () => {
    const agent = agentOf({
      agentId: 'agent-roles',
      hostname: 'edge-roles',
      // cpus(web):2;cpus:2;mem(web):1024;mem:3072;disk:100;ports:[31000-31009]
      total: { cpus: 4, memMiB: 4096, diskMiB: 100, ports: [[31000, 31009]] },
      free: { cpus: 4, memMiB: 4096, diskMiB: 100, ports: [[31000, 31009]] },
      reservations: [{ role: 'web', cpus: 2, memMiB: 1024, diskMiB: 0 }],
    });
    await api.store.agents.put(agent);
    const app = { id: '/web/api', version: '2026-01-02T03:04:05.678Z' };
    const on = { agentId: 'agent-roles', host: 'edge-roles' };
    await api.store.instances.put(
      instanceOf(app, {
        ...on,
        reservationRole: 'web',
        ports: [31002],
        resources: { cpus: 0.5, memMiB: 256, diskMiB: 10 },
      }),
    );
    await api.store.instances.put(
      instanceOf(app, { ...on, ports: [31003], resources: { cpus: 0.25, memMiB: 64, diskMiB: 0 } }),
    );
    // Ended, or on another agent: holds nothing here.
    await api.store.instances.put(instanceOf(app, { ...on, condition: 'Finished', ports: [] }));
    await api.store.instances.put(instanceOf(app, { agentId: 'agent-1', ports: [31004] }));
    const { agents } = (await (await api.app.request('/v2/agents')).json()) as {
      agents: { id: string; resourcesByRole: unknown }[];
    };
    expect(agents.find((a) => a.id === 'agent-roles')?.resourcesByRole).toEqual([
      {
        role: '*',
        total: { cpus: 2, mem: 3072, disk: 100, ports: ['31000-31009'] },
        used: { cpus: 0.25, mem: 64, disk: 10, ports: ['31002-31003'] },
        free: { cpus: 1.75, mem: 3008, disk: 90, ports: ['31000-31001', '31004-31009'] },
      },
      {
        role: 'web',
        total: { cpus: 2, mem: 1024, disk: 0, ports: [] },
        used: { cpus: 0.5, mem: 256, disk: 0, ports: [] },
        free: { cpus: 1.5, mem: 768, disk: 0, ports: [] },
      },
    ]);
  });

  it('shows port ranges reserved to a role under that role, held ports taken from it', async () => {
    const agent = agentOf({
      agentId: 'agent-ports',
      hostname: 'edge-ports',
      // cpus:1;mem:512;ports(web):[40000-40003];ports:[31000-31001]
      total: {
        cpus: 1,
        memMiB: 512,
        diskMiB: 0,
        ports: [
          [31000, 31001],
          [40000, 40003],
        ],
      },
      free: { cpus: 1, memMiB: 512, diskMiB: 0, ports: [] },
      reservations: [{ role: 'web', cpus: 0, memMiB: 0, diskMiB: 0, ports: [[40000, 40003]] }],
    });
    await api.store.agents.put(agent);
    const app = { id: '/web/ports', version: '2026-01-02T03:04:05.678Z' };
    const on = { agentId: 'agent-ports', host: 'edge-ports' };
    const resources = { cpus: 0, memMiB: 0, diskMiB: 0 };
    await api.store.instances.put(
      instanceOf(app, { ...on, reservationRole: 'web', ports: [40001], resources }),
    );
    await api.store.instances.put(instanceOf(app, { ...on, ports: [31000], resources }));
    const { agents } = (await (await api.app.request('/v2/agents')).json()) as {
      agents: { id: string; reservations: unknown; resourcesByRole: { ports?: unknown }[] }[];
    };
    const shown = agents.find((a) => a.id === 'agent-ports');
    expect(shown?.reservations).toEqual([
      { role: 'web', cpus: 0, mem: 0, disk: 0, ports: ['40000-40003'] },
    ]);
    const ports = (shown?.resourcesByRole ?? []) as {
      role: string;
      total: { ports: string[] };
      used: { ports: string[] };
      free: { ports: string[] };
    }[];
    expect(ports.map((r) => [r.role, r.total.ports, r.used.ports, r.free.ports])).toEqual([
      ['*', ['31000-31001'], ['31000-31000'], ['31001-31001']],
      ['web', ['40000-40003'], ['40001-40001'], ['40000-40000', '40002-40003']],
    ]);
  });
});

describe('fuel in Task JSON (`?fuel=true`, Pacer only)', () => {
  let fuelApi: TestApi;
  const running = new Map<string, number>();
  beforeAll(async () => {
    fuelApi = await createTestApi({ taskFuel: { fuelUsed: (taskId) => running.get(taskId) } });
  });
  afterAll(async () => {
    await fuelApi.close();
  });

  it('adds fuelUsed only when asked: the running figure, or the final one once ended', async () => {
    const app = { id: '/metered/app', version: '2026-01-02T03:04:05.678Z' };
    await fuelApi.json('POST', '/v2/apps', { id: app.id, cmd: 'app.wasm', instances: 0 });
    const live = instanceOf(app);
    const ended = instanceOf(app, { condition: 'Failed' });
    const silent = instanceOf(app);
    await fuelApi.store.instances.put(live);
    await fuelApi.store.instances.put({
      ...ended,
      lastTaskFuel: { taskId: currentTaskId(ended), fuelUsed: 42 },
    });
    await fuelApi.store.instances.put(silent);
    running.set(currentTaskId(live), 1_000_000);
    // A figure reported while it ran is superseded by its status's final figure.
    running.set(currentTaskId(ended), 7);

    const plain = (await (await fuelApi.app.request('/v2/apps/metered/app/tasks')).json()) as {
      tasks: Record<string, unknown>[];
    };
    expect(plain.tasks).toHaveLength(3);
    for (const task of plain.tasks) expect(task).not.toHaveProperty('fuelUsed');

    const fueled = (await (
      await fuelApi.app.request('/v2/apps/metered/app/tasks?fuel=true')
    ).json()) as { tasks: { id: string; fuelUsed?: number }[] };
    const fuelOf = (id: string) => fueled.tasks.find((t) => t.id === id)?.fuelUsed;
    expect(fuelOf(currentTaskId(live))).toBe(1_000_000);
    expect(fuelOf(currentTaskId(ended))).toBe(42);
    expect(fuelOf(currentTaskId(silent))).toBeUndefined();
    expect(fueled.tasks.find((t) => t.id === currentTaskId(silent))).not.toHaveProperty('fuelUsed');
    // The group form too.
    const group = (await (
      await fuelApi.app.request('/v2/apps/metered/*/tasks?fuel=true')
    ).json()) as {
      tasks: { fuelUsed?: number }[];
    };
    expect(group.tasks.map((t) => t.fuelUsed).sort()).toEqual([1_000_000, 42, undefined].sort());
  });
});

describe('/v2/tasks/{taskId}/logs', () => {
  it('answers the last lines of one stream, and 404 for an unknown task', async () => {
    const instance = instanceOf({ id: '/logger', version: '2026-01-02T03:04:05.678Z' });
    await api.store.instances.put(instance);
    const taskId = currentTaskId(instance);
    api.logs.write(taskId, { stream: 'stdout', line: 'one' });
    api.logs.write(taskId, { stream: 'stderr', line: 'oops' });
    api.logs.write(taskId, { stream: 'stdout', line: 'two' });
    const res = await api.app.request(`/v2/tasks/${taskId}/logs?stream=stdout&tail=1`);
    const body = (await res.json()) as { lines: { line: string }[] };
    expect(body.lines.map((l) => l.line)).toEqual(['two']);
    expect((await api.app.request('/v2/tasks/x.instance-y._app.1/logs')).status).toBe(404);
  });

  it('answers the fuel an ended task used, and none for a task of another incarnation', async () => {
    const relaunched = instanceOf({ id: '/metered', version: '2026-01-02T03:04:05.678Z' });
    const endedId = currentTaskId(relaunched);
    await api.store.instances.put({
      ...relaunched,
      incarnation: 2,
      lastTaskFuel: { taskId: endedId, fuelUsed: 1234 },
    });
    const ended = await api.app.request(`/v2/tasks/${endedId}/logs`);
    expect(await ended.json()).toEqual({ taskId: endedId, lines: [], fuelUsed: 1234 });
    const runningId = currentTaskId({ ...relaunched, incarnation: 2 });
    const running = await api.app.request(`/v2/tasks/${runningId}/logs`);
    expect(await running.json()).toEqual({ taskId: runningId, lines: [] });
  });

  it('refuses a tail that is not a non-negative integer, and reads and follows at most 10,000 lines', async () => {
    const instance = instanceOf({ id: '/tailed', version: '2026-01-02T03:04:05.678Z' });
    await api.store.instances.put(instance);
    const taskId = currentTaskId(instance);
    for (const tail of ['-1', 'abc', '1e3', '1.5', '0x10', '%00']) {
      const res = await api.app.request(`/v2/tasks/${taskId}/logs?tail=${tail}`);
      expect(res.status, tail).toBe(400);
    }
    const { read, follow } = api.logs;
    const asked = { read: [] as number[], follow: [] as number[] };
    api.logs.read = (id, options) => {
      asked.read.push(options.tail);
      return read.call(api.logs, id, options);
    };
    api.logs.follow = (id, options) => {
      asked.follow.push(options.tail);
      return follow.call(api.logs, id, options);
    };
    try {
      const huge = '99999999999999999999';
      expect((await api.app.request(`/v2/tasks/${taskId}/logs?tail=${huge}`)).status).toBe(200);
      api.logs.write(taskId, { stream: 'stdout', line: 'seen' });
      const followed = await api.app.request(`/v2/tasks/${taskId}/logs?tail=${huge}&follow=true`);
      expect(followed.status).toBe(200);
      // The route starts following once its stream is read: read up to the line written.
      const reader = followed.body!.getReader();
      const decoder = new TextDecoder();
      let text = '';
      while (!text.includes('seen')) text += decoder.decode((await reader.read()).value);
      await reader.cancel();
      // (The double's follow reads its tail through `read` too.)
      expect(asked.follow).toEqual([10_000]);
      expect(asked.read.length).toBeGreaterThan(0);
      expect(asked.read.every((tail) => tail === 10_000)).toBe(true);
    } finally {
      api.logs.read = read;
      api.logs.follow = follow;
    }
  });

  it('follows as server-sent events with follow=true', async () => {
    const instance = instanceOf({ id: '/follower', version: '2026-01-02T03:04:05.678Z' });
    await api.store.instances.put(instance);
    const taskId = currentTaskId(instance);
    api.logs.write(taskId, { stream: 'stdout', line: 'before' });
    // The double subscribes as the route starts iterating its follow (here: sets isFollowing).
    const follow = api.logs.follow.bind(api.logs);
    let isFollowing = false;
    api.logs.follow = async function* (...args) {
      const lines = follow(...args);
      isFollowing = true;
      yield* lines;
    };
    const controller = new AbortController();
    const res = await api.app.request(`/v2/tasks/${taskId}/logs?follow=true`, {
      signal: controller.signal,
    });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    // The line already written comes first; one written once the follow is under way comes next.
    while (!text.includes('before')) text += decoder.decode((await reader.read()).value);
    await waitFor('the follow under way', () => isFollowing);
    api.logs.write(taskId, { stream: 'stdout', line: 'after' });
    while (!text.includes('after')) text += decoder.decode((await reader.read()).value);
    api.logs.follow = follow;
    expect(text).toContain(
      'event: log\ndata: {"timestamp":"2026-01-02T03:04:05.678Z","stream":"stdout","line":"before"}',
    );
    expect(text).toContain('"line":"after"');
    await reader.cancel();
  });
});
