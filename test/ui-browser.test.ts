// The web UI in a real browser: Debian's Chromium (playwright-core) against a real `pacer dev`
// with authentication on. Sign in with a token, create an app from JSON, watch it reach running
// (live, from the event stream), scale it, see the fuel its tasks use, read and follow its logs,
// see the agent's resources per role, drain it (the drained event shows), destroy it; attacker-made
// labels and ids render as text under a strict Content-Security-Policy. Refreshes docs/ui.png with UPDATE_SCREENSHOTS=1.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freePort,
  portBlock,
  startPacer,
  tempDir,
  waitForApi,
  type PacerProcess,
} from './support/cluster.js';
import { CHROMIUM_PATH, hasBrowser } from './support/services.js';

const hasChromium = await hasBrowser();
const TOKEN = 'ui-test-bootstrap-secret-0123456789';
const SERVICE_WASM = path.resolve('wasm-tasks/build/service.wasm');
const XSS = '<img src=x onerror="window.__xss=1">';

describe.skipIf(!hasChromium)('the web UI in Chromium', () => {
  let dev: PacerProcess;
  let url: string;
  let browser: Browser;
  let page: Page;
  let moduleUri: string;
  const pageErrors: string[] = [];
  const cspViolations: string[] = [];

  beforeAll(async () => {
    const dir = await tempDir('pacer-ui');
    const tokenFile = path.join(dir, 'token');
    await writeFile(tokenFile, TOKEN);
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    dev = startPacer(
      [
        'dev',
        '--port',
        String(port),
        '--data-dir',
        path.join(dir, 'data'),
        '--bootstrap-token-file',
        tokenFile,
        // Mesos's syntax with a reservation: the agents page shows `*` and `web` apart.
        '--resources',
        `cpus(web):1;cpus:2;mem(web):256;mem:1024;disk:2048;ports:[${portBlock()}]`,
      ],
      {},
    );
    await waitForApi(url, dev);
    const uploaded = await fetch(`${url}/v2/artifacts`, {
      method: 'POST',
      headers: { 'content-type': 'application/wasm', authorization: `Bearer ${TOKEN}` },
      body: new Uint8Array(await readFile(SERVICE_WASM)),
    });
    moduleUri = `${((await uploaded.json()) as { uri: string }).uri}/service.wasm`;
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
    page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
    // Every confirmation is accepted (the test is the operator).
    page.on('dialog', (dialog) => void dialog.accept());
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await dev?.stop();
  });

  it('serves / as a redirect to /ui, under a strict Content-Security-Policy, without credentials', async () => {
    const root = await fetch(`${url}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/ui');
    const ui = await fetch(`${url}/ui`);
    expect(ui.status).toBe(200);
    const csp = ui.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect((await fetch(`${url}/ui/toString`)).status).toBe(404);
    expect((await fetch(`${url}/ui/__proto__`)).status).toBe(404);
    const info = (await (
      await fetch(`${url}/v2/info`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()) as { marathon_config: { webui_url: string } };
    expect(info.marathon_config.webui_url).toBe(`${url}/ui`);
  });

  it('signs in with a token and shows no apps', async () => {
    await page.goto(`${url}/`);
    await page.getByTestId('token').fill('wrong-token-0123456789');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That token is not valid.').waitFor();
    await page.getByTestId('token').fill(TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('No apps yet.').waitFor();
    await page.getByText('● live').waitFor();
  });

  it('creates an app from JSON and watches it reach running; its hostile label is text', async () => {
    await page.getByRole('button', { name: 'Create app' }).click();
    const app = {
      id: '/ui/web',
      instances: 1,
      cpus: 0.1,
      mem: 16,
      cmd: 'service.wasm 100',
      fetch: [{ uri: moduleUri }],
      labels: { note: XSS },
    };
    await page.getByTestId('app-json').fill(JSON.stringify(app, null, 2));
    await page.getByTestId('create').click();
    await page.getByTestId('app-id').filter({ hasText: '/ui/web' }).waitFor();
    // Live: the page is not reloaded; the event stream brings the task's progress.
    await page
      .getByTestId('app-status')
      .filter({ hasText: 'Running' })
      .waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('app-running').innerText()).toBe('1');
    await page.getByText(`note=${XSS}`).waitFor();
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { __xss?: number }).__xss)).toBeUndefined();
  }, 60_000);

  it('scales it and reads and follows its logs', async () => {
    await page.getByTestId('scale-input').fill('2');
    await page.getByTestId('scale').click();
    await page.getByTestId('app-running').filter({ hasText: '2' }).waitFor({ timeout: 30_000 });
    await expect
      .poll(() => page.locator('[data-testid=task-state]').allInnerTexts(), { timeout: 30_000 })
      .toEqual(['TASK_RUNNING', 'TASK_RUNNING']);

    const logs = page.getByTestId('logs');
    await page.getByTestId('follow').click();
    await expect.poll(() => logs.innerText(), { timeout: 20_000 }).toMatch(/tick \d+/);
    const ticks = async () => (await logs.innerText()).match(/tick \d+/g)?.length ?? 0;
    const seen = await ticks();
    // Following: new lines arrive without a reload.
    await expect.poll(ticks, { timeout: 20_000 }).toBeGreaterThan(seen);

    // Fuel used: the running figure of the agent's offers (a tick is a host call), read anew
    // with each event and every few seconds, as it climbs with no event to tell of it; a task
    // the agent has not reported on yet shows a dash.
    const fuel = async () =>
      Math.max(
        0,
        ...(await page.locator('[data-testid=task-fuel]').allInnerTexts()).map(
          (text) => Number(text.replace(/,/g, '')) || 0,
        ),
      );
    await expect.poll(fuel, { timeout: 30_000 }).toBeGreaterThan(0);
    const fuelSeen = await fuel();
    await expect.poll(fuel, { timeout: 30_000 }).toBeGreaterThan(fuelSeen);

    // README's screenshots are refreshed with UPDATE_SCREENSHOTS=1; otherwise they go to a temp dir.
    const shots = process.env.UPDATE_SCREENSHOTS ? path.resolve('docs') : await tempDir('ui-shots');
    await page.screenshot({ path: path.join(shots, 'ui.png'), fullPage: false });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: path.join(shots, 'ui-phone.png'), fullPage: false });
    // Usable at a phone's width: nothing wider than the screen but the scrolling tables.
    const overflow = await page.evaluate<number>('document.body.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await page.setViewportSize({ width: 1200, height: 800 });
  }, 90_000);

  it("shows the API's 422 details for a bad definition, as text", async () => {
    await page.goto(`${url}/ui#/create`);
    await page
      .getByTestId('app-json')
      .fill(JSON.stringify({ id: `/x${XSS}`, cmd: 'x', instances: -1 }));
    await page.getByTestId('create').click();
    const box = page.locator('.error');
    await box.waitFor();
    expect(await box.innerText()).toMatch(/^422: Object is not valid/);
    expect(await box.innerText()).toContain('/instances');
    expect(await page.locator('img').count()).toBe(0);
  }, 30_000);

  it('lists the agent with its drain button and the deployments page', async () => {
    await page.goto(`${url}/ui#/agents`);
    await page.getByTestId('agents').waitFor();
    expect(await page.getByTestId('drain').count()).toBe(1);
    // Per role: the two tasks (0.1 CPUs, 16 MiB, a port each) take unreserved resources, since
    // /ui/web runs as `*`; the reservation of `web` stays free.
    const roleCpus = (role: string) =>
      page.locator(`[data-testid=role-resources] tr[data-role="${role}"] [data-testid=role-cpus]`);
    await expect.poll(() => roleCpus('*').innerText()).toBe('0.2 / 2 (1.8 free)');
    expect(await roleCpus('web').innerText()).toBe('0 / 1 (1 free)');
    const starRow = await page
      .locator('[data-testid=role-resources] tr[data-role="*"]')
      .innerText();
    expect(starRow).toContain('32 / 1024 (992 free)');
    expect(starRow).toContain('2 / 100 (98 free)');
    await page.goto(`${url}/ui#/deployments`);
    await page.getByRole('heading', { name: 'Deployments' }).waitFor();
    await page.goto(`${url}/ui#/queue`);
    await page.getByRole('heading', { name: 'Launch queue' }).waitFor();
  });

  it('destroys the app', async () => {
    await page.goto(`${url}/ui#/app/${encodeURIComponent('/ui/web')}`);
    await page.getByTestId('destroy').click();
    await page.getByText('No apps yet.').waitFor({ timeout: 30_000 });
  }, 60_000);

  it('drains the empty agent from the agents page, then puts it back in service', async () => {
    await page.goto(`${url}/ui#/agents`);
    await page.getByTestId('drain').click();
    // Nothing runs on it any more: drained at once, shown live, and announced by the event.
    await page.getByTestId('drain-state').filter({ hasText: 'drained' }).waitFor();
    await page.getByTestId('drained-event').filter({ hasText: 'reported drained' }).waitFor();
    await page.getByRole('button', { name: 'Undrain' }).click();
    await page.getByTestId('drain').waitFor();
    expect(await page.getByTestId('drain-state').count()).toBe(0);
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
  }, 30_000);
});
