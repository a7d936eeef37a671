// The agent's task records file: what a process saved and did not forget is what the next one
// recovers, a burst is one write, a torn last line is dropped, and the old one-file-per-task
// directory is taken in once.
import { appendFile, mkdir, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LaunchCommand } from '../bus/index.js';
import { silentLogger } from '../lib/index.js';
import { openTaskRecords, TASK_RECORDS_FILE, type TaskRecord } from './task-records.js';

const logger = silentLogger();

function record(taskId: string): TaskRecord {
  const command = { type: 'launch', taskId, spec: { kind: 'wasm' } } as unknown as LaunchCommand;
  return { taskId, command, handle: { taskId, kind: 'wasm', startedAt: 1 } };
}

const idsOf = (records: TaskRecord[]) => records.map((r) => r.taskId);

describe('task records', () => {
  it('recovers the tasks saved and not forgotten, in the order they started', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pacer-records-'));
    const first = await openTaskRecords({ dir, logger });
    expect(first.recovered).toEqual([]);
    for (const id of ['a', 'b', 'c', 'd']) first.save(record(id));
    first.forget('b');
    first.forget('never-saved');
    await first.close();
    const second = await openTaskRecords({ dir, logger });
    expect(idsOf(second.recovered)).toEqual(['a', 'c', 'd']);
    expect(second.recovered[0]).toEqual(record('a'));
    second.forget('c');
    await second.close();
    expect(idsOf((await openTaskRecords({ dir, logger })).recovered)).toEqual(['a', 'd']);
  });

  it('writes a burst of saves in one append', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pacer-records-'));
    const records = await openTaskRecords({ dir, logger });
    for (let i = 0; i < 100; i++) records.save(record(`t${i}`));
    await records.close();
    const text = await readFile(path.join(dir, TASK_RECORDS_FILE), 'utf8');
    expect(text.split('\n').filter(Boolean)).toHaveLength(100);
  });

  it('drops a torn last line and damaged lines, keeping the rest', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pacer-records-'));
    const records = await openTaskRecords({ dir, logger });
    records.save(record('whole'));
    await records.close();
    await appendFile(path.join(dir, TASK_RECORDS_FILE), 'not json\n{"s":{"taskId":"torn","comm');
    expect(idsOf((await openTaskRecords({ dir, logger })).recovered)).toEqual(['whole']);
  });

  it('takes in the one-file-per-task directory of older agents, then removes it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pacer-records-'));
    await mkdir(path.join(dir, 'tasks'));
    await writeFile(path.join(dir, 'tasks', 'old.json'), JSON.stringify(record('old')));
    const records = await openTaskRecords({ dir, logger });
    expect(records.recovered).toEqual([record('old')]);
    await records.close();
    expect(await readdir(dir)).toEqual([TASK_RECORDS_FILE]);
    expect(idsOf((await openTaskRecords({ dir, logger })).recovered)).toEqual(['old']);
  });
});
