// CPU per command task: a real cgroup (v1 here; v2 files checked on a directory shaped like the
// unified hierarchy) with shares in proportion to `cpus`, and a CFS cap with `--cpu-limit hard`.
import { randomUUID } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/lib/index.js';
import { createCommandDriver } from '../src/runtime/command/index.js';
import { createCpuCgroup, detectCpuHierarchy } from '../src/runtime/command/cpu-cgroup.js';
import type { TaskSpec } from '../src/runtime/driver.js';
import { waitFor } from './support/wait-for.js';

const roots: string[] = [];
const hasCpuCgroup = (await detectCpuHierarchy())?.version === 1;

async function newRoot(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pacer-cpu-'));
  await chmod(dir, 0o755);
  roots.push(dir);
  return dir;
}
afterAll(async () => {
  for (const dir of roots) await rm(dir, { recursive: true, force: true });
});

async function sleeper(cpus: number) {
  const root = await newRoot();
  const sandboxDir = path.join(root, 'sandbox');
  await mkdir(sandboxDir);
  const lines: string[] = [];
  const spec: TaskSpec = {
    taskId: `cmd_cpu.instance-${randomUUID()}._app.1`,
    kind: 'command',
    sandboxDir,
    cmd: 'echo ready; exec sleep 1000',
    env: {},
    limits: { cpus, memMiB: 0, diskMiB: 64, killGracePeriodMs: 1000 },
    ports: [],
    labels: {},
    onLog: (_stream, line) => lines.push(line),
  };
  return { spec, lines, stateDir: path.join(root, 'state') };
}

describe.skipIf(!hasCpuCgroup)('command tasks in a cgroup v1 cpu group', () => {
  it.each([
    ['shares', 0.5, { 'cpu.shares': '512', 'cpu.cfs_quota_us': '-1' }],
    ['hard', 0.25, { 'cpu.shares': '256', 'cpu.cfs_quota_us': '25000' }],
  ] as const)(
    'with --cpu-limit %s, a task of %s cpus gets its weight (and cap), and the group goes on destroy',
    async (mode, cpus, files) => {
      const { spec, lines, stateDir } = await sleeper(cpus);
      const driver = await createCommandDriver({
        logger: silentLogger(),
        stateDir,
        useBubblewrap: false,
        memoryLimit: 'none',
        cpuLimit: mode,
      });
      expect(driver.sandboxing.cpu).toMatchObject({ version: 1, mode });
      const handle = await driver.start(spec);
      await waitFor(`the line 'ready'`, () => lines.includes('ready'));
      const dir = (handle.recoveryData as { cpuCgroupPath: string }).cpuCgroupPath;
      expect(dir).toMatch(/^\/sys\/fs\/cgroup\/cpu\/pacer\/cmd_cpu\.instance-/);
      for (const [file, value] of Object.entries(files))
        expect((await readFile(path.join(dir, file), 'utf8')).trim()).toBe(value);
      const procs = (await readFile(path.join(dir, 'cgroup.procs'), 'utf8')).split('\n');
      // The task (sleep) is in the group; the wrapper that records its exit is not.
      expect(procs.filter(Boolean).length).toBeGreaterThanOrEqual(1);
      expect(procs).not.toContain(String((handle.recoveryData as { pid: number }).pid));
      await driver.destroy(spec.taskId);
      await expect(stat(dir)).rejects.toThrow(/ENOENT/);
    },
  );

  it("leaves CPU alone with cpuLimit 'none'", async () => {
    const { spec, lines, stateDir } = await sleeper(0.5);
    const driver = await createCommandDriver({
      logger: silentLogger(),
      stateDir,
      useBubblewrap: false,
      memoryLimit: 'none',
      cpuLimit: 'none',
    });
    const handle = await driver.start(spec);
    await waitFor(`the line 'ready'`, () => lines.includes('ready'));
    expect(handle.recoveryData).not.toHaveProperty('cpuCgroupPath');
    await driver.destroy(spec.taskId);
  });
});

describe('cgroup v2 files', () => {
  it('writes cpu.weight and cpu.max, and hands the cpu controller down', async () => {
    const root = await newRoot();
    await writeFile(path.join(root, 'cgroup.controllers'), 'cpuset cpu io memory pids\n');
    await writeFile(path.join(root, 'cgroup.procs'), '');
    const hierarchy = await detectCpuHierarchy({ v1: path.join(root, 'none'), v2: root });
    expect(hierarchy).toEqual({ version: 2, root });
    const group = await createCpuCgroup({
      hierarchy: { version: 2, root },
      name: 'pacer/task-1',
      cpus: 0.5,
      mode: 'hard',
    });
    expect(await readFile(path.join(group.path, 'cpu.weight'), 'utf8')).toBe('50');
    expect(await readFile(path.join(group.path, 'cpu.max'), 'utf8')).toBe('50000 100000');
    expect(await readFile(path.join(root, 'pacer', 'cgroup.subtree_control'), 'utf8')).toBe('+cpu');
    const shares = await createCpuCgroup({
      hierarchy: { version: 2, root },
      name: 'pacer/task-2',
      cpus: 0.25,
      mode: 'shares',
    });
    expect(await readFile(path.join(shares.path, 'cpu.max'), 'utf8')).toBe('max 100000');
  });
});
