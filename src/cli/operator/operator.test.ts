// Operator CLI pieces without a master: where settings come from, what a refusal says, how a
// hostile log line is shown, and how tables align.
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { refusalMessage } from './client.js';
import { table } from './format.js';
import { safeLine } from './logs.js';
import { operatorSettings } from './settings.js';

describe('operator settings', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pacer-cli-settings-'));
  const config = path.join(dir, 'config.json');
  await writeFile(config, JSON.stringify({ url: 'http://file:1', token: 'from-file' }));

  it('take flags over the environment over the config file over the default', () => {
    const env = { PACER_CONFIG: config, PACER_URL: 'http://env:2/', PACER_TOKEN: 'from-env' };
    expect(operatorSettings({ master: 'http://flag:3', token: 'from-flag' }, env)).toEqual({
      url: 'http://flag:3',
      token: 'from-flag',
      json: false,
    });
    expect(operatorSettings({}, env)).toEqual({
      url: 'http://env:2',
      token: 'from-env',
      json: false,
    });
    expect(operatorSettings({ json: true }, { PACER_CONFIG: config })).toEqual({
      url: 'http://file:1',
      token: 'from-file',
      json: true,
    });
    expect(operatorSettings({}, { PACER_CONFIG: path.join(dir, 'absent.json') })).toEqual({
      url: 'http://127.0.0.1:8080',
      json: false,
    });
  });

  it('refuse a config file that is not JSON, and a master that is not a URL', async () => {
    const broken = path.join(dir, 'broken.json');
    await writeFile(broken, '{url');
    expect(() => operatorSettings({}, { PACER_CONFIG: broken })).toThrow(/must be JSON like/);
    expect(() => operatorSettings({ master: 'not a url' }, { PACER_CONFIG: broken + 'x' })).toThrow(
      "The master URL 'not a url' is not a URL",
    );
  });
});

describe('operator output', () => {
  it('says what to do for each refusal', () => {
    expect(refusalMessage(401, { message: 'Unauthorized' })).toMatch(/set PACER_TOKEN/);
    expect(refusalMessage(403, { message: 'Not Authorized to perform this action!' })).toMatch(
      /grants do not allow this/,
    );
    expect(refusalMessage(409, { message: 'App is locked by one or more deployments.' })).toMatch(
      /--force/,
    );
    expect(
      refusalMessage(422, {
        message: 'Object is not valid',
        details: [{ path: '/cpus', errors: ['must be at least 0'] }],
      }),
    ).toBe('Object is not valid\n  /cpus: must be at least 0');
    expect(refusalMessage(502, 'Bad gateway')).toBe('Bad gateway');
  });

  it("shows control characters of a task's log line escaped (a task cannot drive the terminal)", () => {
    expect(safeLine('ok\tcol')).toBe('ok\tcol');
    expect(safeLine('\x1b]0;owned\x07\x1b[2Jgone\r')).toBe(
      '\\u001b]0;owned\\u0007\\u001b[2Jgone\\u000d',
    );
    expect(safeLine('\u009b31m')).toBe('\\u009b31m');
  });

  it('aligns columns, showing missing cells as -', () => {
    expect(
      table(
        ['ID', 'STATE'],
        [
          ['/a', 'running'],
          ['/long/id', undefined],
        ],
      ),
    ).toBe('ID        STATE\n/a        running\n/long/id  -');
  });

  it("escapes control characters in cells (a hostile agent's hostname)", () => {
    expect(table(['HOSTNAME', 'STATE'], [['\x1b]0;owned\x07edge', 'active']])).toBe(
      'HOSTNAME                  STATE\n\\u001b]0;owned\\u0007edge  active',
    );
  });
});
