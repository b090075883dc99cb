// The explorer in a real browser: Debian's Chromium, driven by playwright-core, opens
// /explorer on the running product (embedded), enters the API key, runs a query and reads the
// answer from the page; everything the page loads comes from the gateway itself.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { readmeExamples } from '../gateway/explorer.ts';
import type { RunningLoupe } from '../scripts/runtime.ts';
import { startEmbeddedProduct } from './support/embedded-product.ts';

const KEY = 'loupe_explorer_key_0123456789';
const CHROMIUM = '/usr/bin/chromium';
let loupe: RunningLoupe;
let browser: Browser;

beforeAll(async () => {
  loupe = await startEmbeddedProduct(KEY);
  await loupe.createOrganisation('Unused'); // the demo organisation is the key's
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}, 90_000);
afterAll(async () => {
  await browser?.close();
  await loupe?.close();
});

test('the README queries become examples, with their variables filled in', async () => {
  const readme = [
    `curl -d '{`,
    `  "query": "query ($from: DateTime!) { accounts { id } }",`,
    `  "variables": { "from": "'$(date -u -d '30 days ago' +%FT00:00:00Z)'" }`,
    `}'`,
  ].join('\n');
  const [tab] = readmeExamples(readme, Date.parse('2026-03-31T15:00:00Z'));
  expect(tab?.query).toContain('accounts {');
  expect(JSON.parse(tab!.variables!)).toEqual({ from: '2026-03-01T00:00:00Z' });
});

test('a query run in the explorer shows its answer, with nothing loaded from elsewhere', async () => {
  const page = await browser.newPage();
  const foreign: string[] = [];
  const origin = new URL(loupe.urls.gateway!).origin;
  page.on('request', (request) => {
    if (!request.url().startsWith(origin) && !request.url().startsWith('data:')) {
      foreign.push(request.url());
    }
  });
  await page.goto(`${origin}/explorer`);
  await page.fill('#api-key', KEY);
  await page.dispatchEvent('#api-key', 'change');
  // A fresh tab with our query, then run it.
  const editor = page.locator('.graphiql-query-editor .CodeMirror').first();
  await editor.waitFor({ timeout: 30_000 });
  // CodeMirror keeps its editor on its element; typing into it would fight autocompletion.
  await page.evaluate(
    `document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue('{ accounts { id } organisation { name } }')`,
  );
  await page.click('.graphiql-execute-button');
  const result = page.locator('.result-window');
  await expect
    .poll(async () => (await result.textContent()) ?? '', { timeout: 30_000 })
    .toContain('"organisation"');
  const text = (await result.textContent()) ?? '';
  expect(text).toContain('"accounts"');
  expect(text).not.toContain('UNAUTHENTICATED');
  await mkdir(join('.loupe', 'screenshots'), { recursive: true });
  await page.screenshot({ path: join('.loupe', 'screenshots', 'explorer.png') });
  expect(foreign).toEqual([]);
  await page.close();
}, 90_000);

test('a subscription run in the explorer shows the ticks of events posted meanwhile', async () => {
  const page = await browser.newPage();
  const origin = new URL(loupe.urls.gateway!).origin;
  await page.goto(`${origin}/explorer`);
  await page.fill('#api-key', KEY);
  await page.dispatchEvent('#api-key', 'change');
  await page.locator('.graphiql-query-editor .CodeMirror').first().waitFor({ timeout: 30_000 });
  await page.evaluate(
    `document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue('subscription { metricTicks(accountIds: ["explorer-acct"]) { metric delta } }')`,
  );
  await page.waitForTimeout(300); // GraphiQL takes the editor's text on its next render
  await page.click('.graphiql-execute-button');
  const result = page.locator('.result-window');
  // Posts until a tick shows: the socket opens and subscribes a moment after the click.
  await expect
    .poll(
      async () => {
        await fetch(`${loupe.urls.ingest}/v1/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': KEY },
          body: JSON.stringify({
            events: [
              {
                id: `explorer-${Date.now()}-${Math.random()}`,
                type: 'engagement',
                platform: 'tiktok',
                accountId: 'explorer-acct',
                metric: 'views',
                mode: 'delta',
                value: 7,
                occurredAt: new Date().toISOString(),
              },
            ],
          }),
        });
        return (await result.textContent()) ?? '';
      },
      { timeout: 30_000, interval: 500 },
    )
    .toContain('"delta": 7');
  expect((await result.textContent()) ?? '').toContain('"VIEWS"');
  await page.close();
}, 90_000);
