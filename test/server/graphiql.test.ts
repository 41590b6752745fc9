// GraphiQL in a real browser: the page renders from the bundled assets with
// every request outside this server refused (as on a machine with no
// Internet), never shows a key, and opens with the starter query.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestServer, type TestServer } from '../api/client.ts';

const CHROMIUM = process.env.LOYALTY_CHROMIUM ?? '/usr/bin/chromium';

describe('GraphiQL in Chromium', { timeout: 120_000 }, () => {
  let server: TestServer;
  let http: Server;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    server = await startTestServer('pglite');
    http = createServer(server.app);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    // Installed by .ci/run (apt-get install chromium) when missing.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => http?.close(resolve));
    await server?.stop();
  });

  test('renders offline with the starter query and no key', async () => {
    const page = await browser.newPage();
    const outside: string[] = [];
    const graphqlPosts: string[] = [];
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(base) || url.startsWith('blob:') || url.startsWith('data:')) {
        if (route.request().method() === 'POST') graphqlPosts.push(url);
        return route.continue();
      }
      outside.push(url);
      return route.abort();
    });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${base}/graphql`);
    await page.locator('.graphiql-container').first().waitFor({ state: 'visible', timeout: 60_000 });
    // The query editor shows the starter query.
    await page.getByText('query Members').first().waitFor({ timeout: 30_000 });
    await page.screenshot({ path: `${process.env.TMPDIR ?? '/tmp'}/loyalty-graphiql.png` });
    // GraphiQL asked the server for the schema (without a key: refused, which the page shows).
    await expect.poll(() => graphqlPosts.length, { timeout: 30_000 }).toBeGreaterThan(0);
    expect(outside).toEqual([]);
    expect(errors).toEqual([]);
    expect(await page.content()).not.toMatch(/lk_[A-Za-z0-9_-]{20}/);
    await page.close();
  });
});
