// /docs in a real browser: Debian's Chromium (driven by playwright-core) loads Swagger UI from
// this server, renders the operations of /openapi.json, and runs a request with "Try it out".
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer } from '../src/api/http-server.js';
import { createTestApi, type TestApi } from './support/api-doubles.js';
import { CHROMIUM_PATH, hasBrowser } from './support/services.js';

const hasChromium = await hasBrowser();

describe.skipIf(!hasChromium)('/docs in Chromium', () => {
  let api: TestApi;
  let server: Awaited<ReturnType<typeof startHttpServer>>;
  let browser: Browser;

  beforeAll(async () => {
    api = await createTestApi();
    server = await startHttpServer({ app: api.app, port: 0, host: '127.0.0.1' });
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await api?.close();
  });

  it('renders the operations and answers a request made with "Try it out"', async () => {
    const page = await browser.newPage();
    const failed: string[] = [];
    page.on('requestfailed', (request) => failed.push(request.url()));
    await page.goto(`http://127.0.0.1:${server.port}/docs`);
    await page.locator('.opblock').first().waitFor({ timeout: 20_000 });
    expect(await page.locator('.info .title').innerText()).toMatch(/Pacer/);
    const paths = await page.locator('.opblock-summary-path').allInnerTexts();
    expect(paths).toEqual(expect.arrayContaining(['/v2/apps', '/v2/apps/{id}', '/ping']));

    const ping = page.locator('.opblock-get', { has: page.locator('[data-path="/ping"]') });
    await ping.locator('.opblock-summary').click();
    await ping.getByRole('button', { name: 'Try it out' }).click();
    await ping.getByRole('button', { name: 'Execute' }).click();
    const body = ping.locator(
      '.responses-wrapper .live-responses-table .response-col_description pre',
    );
    await expect.poll(() => body.first().innerText(), { timeout: 10_000 }).toContain('pong');
    expect(failed).toEqual([]);
    await page.close();
  }, 60_000);
});
