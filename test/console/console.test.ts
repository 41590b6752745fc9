// The merchant console (/console) in a real Chromium, against a server on a
// fresh embedded database with the demo merchant: sign in, see a mistake's
// squiggle with its message and hint, fix it, publish, then open a member and
// follow a ledger entry to the program line that wrote it. The console is
// built from the current sources into a temporary directory first, so the
// test never runs a stale console/dist. It takes a screenshot of each page:
// into a temporary directory, or with LOYALTY_SCREENSHOTS=DIR into DIR
// (`npm run console:screenshots` refreshes docs/screenshots/, which the
// README shows), so that `npm test` leaves the working tree as it was.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { lineDiff, withContext } from '../../console/src/diff.ts';
import { sha256Hex } from '../../console/src/node-crypto.ts';
import { openDatabase, type Database } from '../../src/server/db/index.ts';
import { startDeliveryWorker, type DeliveryWorker } from '../../src/server/services/delivery.ts';
import { ensureDemoMerchant } from '../../src/server/services/merchants.ts';
import { createApp, type App } from '../../src/server/yoga.ts';
import { rawRequest } from '../api/client.ts';

const CHROMIUM = process.env.LOYALTY_CHROMIUM ?? '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SHOTS = process.env.LOYALTY_SCREENSHOTS ? join(ROOT, process.env.LOYALTY_SCREENSHOTS) : mkdtempSync(join(tmpdir(), 'loyalty-console-shots-'));

describe('console helpers', () => {
  test('the browser SHA-256 equals node:crypto', () => {
    for (const text of ['', 'abc', 'program "Bean & Leaf" { currency USD }', 'é☕'.repeat(50), 'x'.repeat(1000)]) {
      expect(sha256Hex(text)).toBe(createHash('sha256').update(text).digest('hex'));
    }
  });

  test('lineDiff marks added and removed lines and keeps line numbers', () => {
    const d = lineDiff('a\nb\nc\n', 'a\nB\nc\nd\n');
    expect(d.map((l) => `${l.kind}:${l.text}:${l.oldLine ?? ''}:${l.newLine ?? ''}`)).toEqual(['same:a:1:1', 'del:b:2:', 'add:B::2', 'same:c:3:3', 'add:d::4']);
    expect(lineDiff('x\ny', 'x\ny').every((l) => l.kind === 'same')).toBe(true);
    const long = Array.from({ length: 20 }, (_, i) => `line ${i}`);
    const changed = long.map((l, i) => (i === 10 ? 'changed' : l));
    const folded = withContext(lineDiff(long.join('\n'), changed.join('\n')), 2);
    expect(folded.map((l) => (l.kind === 'skip' ? `skip ${l.count}` : l.kind))).toEqual(['skip 8', 'same', 'same', 'del', 'add', 'same', 'same', 'skip 7']);
  });
});

describe('the merchant console in Chromium', { timeout: 180_000 }, () => {
  let db: Database;
  let app: App;
  let http: Server;
  let browser: Browser;
  let base: string;
  let key: string;
  let dist: string;
  const masked: unknown[] = [];

  beforeAll(async () => {
    dist = mkdtempSync(join(tmpdir(), 'loyalty-console-'));
    await build({ configFile: join(ROOT, 'console/vite.config.ts'), build: { outDir: dist, emptyOutDir: true }, logLevel: 'error' });
    db = await openDatabase({ dataDir: null, poolSize: 10 });
    app = createApp(db, { console: dist, logError: (e) => masked.push(e) });
    key = (await ensureDemoMerchant(db.prisma))!.apiKey;
    // A member with a few ledger entries written by version 1.
    for (const query of [
      'mutation { signup(input: { memberId: "ava" }) { __typename } }',
      'mutation { recordOrder(input: { memberId: "ava", orderId: "A-1", lines: [{ sku: "LATTE", category: "espresso", qty: 1, price: "4.50" }] }) { __typename } }',
      'mutation { joinClub(input: { memberId: "ava", club: "Bean Club" }) { __typename } }',
      'mutation { signup(input: { memberId: "ben" }) { __typename } }',
    ]) {
      const res = await rawRequest(app, { query }, key);
      expect(res.errors ?? []).toEqual([]);
    }
    http = createServer(app);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    // Installed by .ci/run (apt-get install chromium) when missing: no silent pass.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    mkdirSync(SHOTS, { recursive: true });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => http?.close(resolve));
    await db?.close();
    if (dist) rmSync(dist, { recursive: true, force: true });
    if (!process.env.LOYALTY_SCREENSHOTS) rmSync(SHOTS, { recursive: true, force: true });
  });

  test('serves the built page and assets with their content types, and no key', async () => {
    const redirect = await app.fetch(`${base}/console`);
    expect(redirect.status).toBe(308);
    expect(redirect.headers.get('location')).toBe('/console/');
    const page = await app.fetch(`${base}/console/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).not.toContain(key);
    expect(html).not.toMatch(/https?:\/\//);
    const assets = [...html.matchAll(/(?:src|href)="(\/console\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.some((a) => a.endsWith('.js'))).toBe(true);
    expect(assets.some((a) => a.endsWith('.css'))).toBe(true);
    for (const asset of assets) {
      const res = await app.fetch(`${base}${asset}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(asset.endsWith('.js') ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8');
      expect(res.headers.get('cache-control')).toContain('immutable');
      expect(await res.text()).not.toContain(key);
    }
    expect((await app.fetch(`${base}/console/assets/nothing.js`)).status).toBe(404);
    expect((await app.fetch(`${base}/console/..%2f..%2fpackage.json`)).status).toBe(404);
    expect((await app.fetch(`${base}/console/`, { method: 'POST' })).status).toBe(405);
  });

  test('sign in, fix a mistake, publish, and follow a ledger entry to its program line', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const outside: string[] = [];
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(base) || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
      outside.push(url);
      return route.abort();
    });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });

    // Sign in: a wrong key is refused, the right one opens the program page.
    await page.goto(`${base}/console/`);
    await page.getByLabel('API key').fill('lk_wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.locator('#sign-in-error').textContent()).toMatch(/refused/);
    await page.getByLabel('API key').fill(key);
    await shot(page, 'sign-in');
    await page.getByLabel('API key').press('Enter');
    await page.locator('.cm-content').waitFor();
    await page.getByRole('heading', { level: 1, name: 'Bean & Leaf Rewards' }).waitFor();
    expect(page.url()).not.toContain(key);
    expect(await page.evaluate(() => sessionStorage.getItem('loyalty.console.apiKey'))).toBe(key);
    expect(await page.content()).not.toContain(key);
    await expect.poll(async () => `${await page.locator('#diagnostics-status').textContent()} ${await page.locator('.problems').textContent()}`).toBe('No problems: the program compiles. ');
    // .loyalty colouring from the language services' semantic tokens.
    expect(await page.locator('.cm-content .tok-keyword').count()).toBeGreaterThan(20);
    expect(await page.locator('.cm-content .tok-string').count()).toBeGreaterThan(3);

    // A mistake: `multiplier` → `multipler` on line 14, typed with the keyboard.
    await page.locator('.cm-line', { hasText: /^\s*multiplier 2x$/ }).first().click();
    await page.keyboard.press('End');
    await page.keyboard.press('Home');
    for (let i = 0; i < 7; i++) await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Delete');
    await expect.poll(() => page.locator('#diagnostics-status').textContent()).toMatch(/^1 error/);
    await page.locator('.cm-lintRange-error').first().waitFor();
    await expect.poll(() => page.locator('.problems').textContent()).toContain('unknown keyword "multipler"');
    expect(await page.locator('.problems').textContent()).toContain('did you mean "multiplier"?');
    expect(await page.locator('#publish').isDisabled()).toBe(true);
    // The squiggle's tooltip has the message, the hint and the quick fix.
    await page.locator('.cm-lintRange-error').first().hover();
    const tooltip = page.locator('.cm-tooltip-lint');
    await tooltip.waitFor();
    expect(await tooltip.textContent()).toContain('unknown keyword "multipler"');
    expect(await tooltip.textContent()).toContain('hint: did you mean "multiplier"?');
    await shot(page, 'program-diagnostic');
    // From the keyboard: Ctrl-Shift-M lists the problems in the editor's panel.
    await page.keyboard.press('Control+Shift+M');
    await expect.poll(() => page.locator('.cm-panel-lint').textContent()).toContain('unknown keyword "multipler"');
    await page.keyboard.press('Escape');
    // Fix it with the quick fix.
    await tooltip.getByRole('button', { name: /Change to multiplier/ }).click();
    await expect.poll(() => page.locator('#diagnostics-status').textContent()).toContain('No problems');
    await expect.poll(() => page.locator('.cm-lintRange-error').count()).toBe(0);

    // A real change: the first coffee of the day earns 20 Beans instead of 15.
    await page.locator('.cm-line', { hasText: /^\s*bonus 15 points$/ }).first().click();
    await page.keyboard.press('End');
    for (let i = 0; i < 7; i++) await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('Backspace');
    await page.keyboard.press('Backspace');
    await page.keyboard.type('20');
    await page.getByRole('button', { name: 'Format' }).click();
    await expect.poll(() => page.locator('.message').textContent()).toBe('Formatted.');
    await expect.poll(() => page.locator('#diff').textContent()).toContain('1 added, 1 removed');

    // Preview the draft against the recorded history: ava's first coffee earns 5 more.
    await page.getByRole('button', { name: 'Preview the editor’s program' }).click();
    await expect.poll(() => page.locator('#preview-status').textContent()).toMatch(/events? replayed: 1 member change \(1 balance, 0 tier, 0 clubs\)/);
    expect(await page.locator('#preview-members tbody tr').count()).toBe(1);
    expect(await page.locator('#preview-members tbody tr').textContent()).toContain('ava');
    expect(await page.locator('#preview-members tbody tr').textContent()).toContain('+5');
    expect(await page.locator('#preview-totals').textContent()).toContain('Liability (at the redeem rate)');
    expect(await page.locator('#preview-tiers tbody tr').first().textContent()).toContain('Green');
    await page.locator('#preview-title').evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await shot(page, 'program-preview');

    // Publish, with a confirmation.
    await page.getByRole('button', { name: 'Publish…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Publish this program?' });
    await dialog.waitFor();
    await expect.poll(() => dialog.textContent()).toContain("The server's check: compiles");
    await shot(page, 'publish-confirm');
    await dialog.getByRole('button', { name: 'Publish version 2' }).click();
    await expect.poll(() => page.locator('.message').textContent()).toContain('Published version 2');
    await expect.poll(() => page.locator('.meta').first().textContent()).toContain('Active version 2');
    expect(await page.locator('.versions li').count()).toBe(2);
    // The history's diff: version 1 → version 2.
    await page.getByLabel('Compare from', { exact: true }).selectOption('1');
    await page.getByLabel('to', { exact: true }).selectOption('2');
    expect(await page.locator('#diff .diff-line.del').textContent()).toContain('bonus 15 points');
    expect(await page.locator('#diff .diff-line.add').textContent()).toContain('bonus 20 points');
    expect(await page.locator('#diff .diff-line.fold').first().textContent()).toContain('22 unchanged lines');
    expect(await page.locator('#diff .diff-line.fold').first().isVisible()).toBe(true);
    await page.locator('#history-title').scrollIntoViewIfNeeded();
    await shot(page, 'program-history');
    const published = await rawRequest(app, { query: '{ program { version source } }' }, key);
    expect(JSON.stringify(published.data)).toContain('bonus 20 points');
    // Version 3, published through the API: points vest 14 days after the order, and a weekly
    // challenge. Two more coffees for ava: their points are pending, the challenge counts them.
    const v2 = (published.data as { program: { source: string } }).program.source;
    const v3 = v2
      .replace(/^(\s*)unit "Beans"$/m, '$1unit "Beans"\n$1pending 14 days')
      .replace(/^(\s*)tiers \{$/m, '$1challenge "Three coffees a week" {\n$1  orders 3 per week\n$1  category "espresso", "brewed"\n$1  bonus 100 points\n$1}\n\n$1tiers {');
    expect(v3).toContain('pending 14 days');
    expect(v3).toContain('orders 3 per week');
    const publishV3 = await rawRequest(app, { query: 'mutation($s: String!) { publishProgram(source: $s) { __typename ... on PublishProgramPayload { program { version } } } }', variables: { s: v3 } }, key);
    expect(JSON.stringify(publishV3.data)).toContain('"version":3');
    for (const id of ['A-2', 'A-3']) {
      const res = await rawRequest(app, { query: `mutation { recordOrder(input: { memberId: "ava", orderId: "${id}", lines: [{ sku: "DRIP", category: "brewed", qty: 1, price: "3.00" }] }) { __typename } }` }, key);
      expect(res.errors ?? []).toEqual([]);
    }

    // Members: the list, filtered by tier, and a search by id.
    await page.getByRole('link', { name: 'Members' }).click();
    await page.getByRole('heading', { level: 1, name: 'Members' }).waitFor();
    await page.getByRole('link', { name: 'ava' }).waitFor();
    expect(await page.locator('tbody tr').count()).toBe(2);
    await page.getByLabel('Tier').selectOption('Gold');
    await expect.poll(() => page.locator('.card h2').nth(0).textContent()).toBe('Members in Gold');
    expect(await page.locator('tbody tr').count()).toBe(0);
    await page.getByLabel('Tier').selectOption('Green');
    await page.getByRole('heading', { name: 'Members in Green' }).waitFor();
    await page.getByRole('link', { name: 'ava' }).waitFor();
    await shot(page, 'members');
    await page.getByLabel('Member id').fill('nobody');
    await page.getByLabel('Member id').press('Enter');
    await expect.poll(() => page.locator('main .status').textContent()).toContain('No member with id');
    await page.getByLabel('Member id').fill('ava');
    await page.getByLabel('Member id').press('Enter');

    // A member: balance, tier progress, and the explained ledger.
    await page.getByRole('heading', { level: 1, name: 'Member ava' }).waitFor();
    const ava = await rawRequest(app, { query: '{ member(id: "ava") { balance } }' }, key);
    expect(await page.locator('#balance').textContent()).toBe(String((ava.data as { member: { balance: number } }).member.balance));
    expect(await page.locator('section[aria-labelledby="clubs-title"]').textContent()).toContain('Bean Club');
    expect(await page.locator('#tier-name').textContent()).toBe('Green');
    expect(await page.locator('#tier-progress').getAttribute('aria-valuetext')).toMatch(/% of the way to Silver/);
    const rule = page.getByRole('button', { name: 'First coffee of the day' });
    await rule.click();
    expect(await rule.getAttribute('aria-expanded')).toBe('true');
    const detail = page.locator('.entry-detail:not([hidden])');
    await expect.poll(() => detail.locator('.source-ref').textContent()).toContain('Line 26 of program version 1');
    // The line of version 1 that wrote it (version 2 says 20 now).
    expect(await detail.locator('.source-text').textContent()).toBe('bonus 15 points');
    expect(await detail.locator('.source-line.current').textContent()).toContain('bonus 15 points');
    // Pending points: the balance card says how many, the pending section lists each order and when it vests.
    const avaNow = (await rawRequest(app, { query: '{ member(id: "ava") { pendingPoints pending { orderId points vestsAt } challenges { name orders ordersGoal completed } } }' }, key)).data as {
      member: { pendingPoints: number; pending: { orderId: string; points: number; vestsAt: string }[]; challenges: { name: string; orders: number; ordersGoal: number; completed: boolean }[] };
    };
    expect(avaNow.member.pending.map((p) => p.orderId)).toEqual(['A-2', 'A-3']);
    expect(avaNow.member.pendingPoints).toBeGreaterThan(0);
    expect(await page.locator('#pending-points').textContent()).toContain(`+${avaNow.member.pendingPoints.toLocaleString('en-US')} pending`);
    const pendingRows = page.locator('#pending tbody tr');
    expect(await pendingRows.count()).toBe(2);
    for (const [i, p] of avaNow.member.pending.entries()) {
      const text = await pendingRows.nth(i).textContent();
      expect(text).toContain(p.orderId);
      expect(text).toContain(`+${p.points}`);
      expect(await pendingRows.nth(i).locator('time').getAttribute('datetime')).toBe(p.vestsAt);
    }
    // 14 days after the orders.
    const vests = Date.parse(avaNow.member.pending[0]!.vestsAt) - Date.now();
    expect(vests).toBeGreaterThan(13 * 86_400_000);
    expect(vests).toBeLessThanOrEqual(14 * 86_400_000);
    // The challenge: count (A-1 was before version 3), "2 of 3 orders this week, resets Monday".
    expect(avaNow.member.challenges).toEqual([{ name: 'Three coffees a week', orders: 2, ordersGoal: 3, completed: false }]);
    const challenge = page.locator('#challenges li');
    expect(await challenge.count()).toBe(1);
    expect(await challenge.locator('strong').textContent()).toBe('Three coffees a week');
    expect(await challenge.locator('.challenge-status').textContent()).toBe('2 of 3 orders this week, resets Monday');
    expect(await challenge.locator('progress').getAttribute('value')).toBe('67');
    await shot(page, 'member', { fullPage: true });
    // From the keyboard: the balance card's pending link moves the focus to the pending section.
    await page.locator('#pending-points a').focus();
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('pending-title');

    // Phone width: the same page in one column, nothing wider than the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    // The ledger as one card an entry, every cell inside the screen.
    const widest = await page.locator('.ledger td').evaluateAll((cells) => Math.max(...cells.map((c) => c.getBoundingClientRect().right)));
    expect(widest).toBeLessThanOrEqual(390);
    await page.locator('#ledger-title').evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await shot(page, 'member-phone');
    await page.getByRole('link', { name: 'Program' }).click();
    await page.locator('.cm-content').waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await shot(page, 'program-phone');

    // Keyboard: after a navigation the page heading has focus, and Tab goes on to the page's first control.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('page-title');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Format');

    expect(outside).toEqual([]);
    // The one refused request is the wrong key's.
    expect(errors).toEqual(['Failed to load resource: the server responded with a status of 401 (Unauthorized)']);
    expect(masked).toEqual([]);
    await page.close();
  });
});

describe('the webhooks page in Chromium', { timeout: 180_000 }, () => {
  let db: Database;
  let app: App;
  let http: Server;
  let receiver: Server;
  let hooks: string;
  let worker: DeliveryWorker;
  let browser: Browser;
  let base: string;
  let key: string;
  let dist: string;
  /** What the receiver was sent: each request's notification type and member. */
  const received: { type: string; member: string }[] = [];
  const masked: unknown[] = [];
  /** How long a poll waits for the page (a shared machine can be slow; nothing here is timed). */
  const SLOW = { timeout: 15_000 };

  beforeAll(async () => {
    dist = mkdtempSync(join(tmpdir(), 'loyalty-console-'));
    await build({ configFile: join(ROOT, 'console/vite.config.ts'), build: { outDir: dist, emptyOutDir: true }, logLevel: 'error' });
    db = await openDatabase({ dataDir: null, poolSize: 10 });
    app = createApp(db, { console: dist, logError: (e) => masked.push(e) });
    key = (await ensureDemoMerchant(db.prisma))!.apiKey;
    for (const query of ['mutation { signup(input: { memberId: "ava" }) { __typename } }']) {
      const res = await rawRequest(app, { query }, key);
      expect(res.errors ?? []).toEqual([]);
    }
    // A local receiver: answers 200 to every POST and keeps what it got.
    receiver = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        const n = JSON.parse(body) as { type: string; member: string };
        received.push({ type: n.type, member: n.member });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    hooks = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
    worker = startDeliveryWorker(db.prisma, { pollIntervalMs: 25, timeoutMs: 5_000 });
    http = createServer(app);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    mkdirSync(SHOTS, { recursive: true });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await worker?.stop();
    await new Promise((resolve) => http?.close(resolve));
    await new Promise((resolve) => receiver?.close(resolve));
    await db?.close();
    if (dist) rmSync(dist, { recursive: true, force: true });
  });

  const signIn = async (page: Page, withKey: string) => {
    await page.goto(`${base}/console/#/webhooks`);
    await page.getByLabel('API key').fill(withKey);
    await page.getByLabel('API key').press('Enter');
  };

  test('a write key is told it needs an admin key', async () => {
    const made = await rawRequest(app, { query: 'mutation { createApiKey(scope: WRITE, label: "pos") { key } }' }, key);
    expect(made.errors ?? []).toEqual([]);
    const writeKey = (made.data as { createApiKey: { key: string } }).createApiKey.key;
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await signIn(page, writeKey);
    await page.getByRole('heading', { level: 1, name: 'Webhooks' }).waitFor();
    await expect.poll(() => page.locator('#scope-message').textContent(), SLOW).toContain('for admin keys only');
    expect(await page.getByRole('heading', { name: 'This page needs an admin key' }).isVisible()).toBe(true);
    expect(await page.locator('#endpoints').count()).toBe(0);
    await page.close();
  });

  test('add an endpoint, see a write delivered to it, resend it, disable and delete endpoints', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    await signIn(page, key);
    await page.getByRole('heading', { level: 1, name: 'Webhooks' }).waitFor();
    expect(await page.getByRole('link', { name: 'Webhooks' }).getAttribute('aria-current')).toBe('page');
    expect(await page.locator('#no-endpoints').isVisible()).toBe(true);
    expect(await page.locator('#no-deliveries').isVisible()).toBe(true);

    // From the keyboard: the heading has focus, Tab reaches the form (open while there is no endpoint)
    // and its URL field; a bad URL is refused with the server's reason.
    await expect.poll(() => page.evaluate(() => document.activeElement?.id), SLOW).toBe('page-title');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Add an endpoint');
    expect(await page.locator('details.adding').getAttribute('open')).toBe('');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('endpoint-url');
    await page.keyboard.type('ftp://example.com/x');
    await page.evaluate(() => (document.getElementById('endpoint-url') as HTMLInputElement).form!.noValidate = true);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#webhooks-message').textContent(), SLOW).toMatch(/^Not added: .*http/);

    // An endpoint for points.earned at the local receiver.
    await page.getByLabel('Endpoint URL').fill(hooks);
    await page.getByLabel('points.earned').check();
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await expect.poll(() => page.locator('#webhooks-message').textContent(), SLOW).toBe(`Added ${hooks}: it receives points.earned from now on.`);
    const endpoint = page.locator('#endpoints tbody tr', { hasText: hooks });
    expect(await endpoint.textContent()).toContain('points.earned');
    expect(await endpoint.textContent()).toContain('Enabled');
    // The form folds away once there is an endpoint, so the deliveries are in view.
    expect(await page.locator('details.adding').getAttribute('open')).toBeNull();

    // A write: ava's order earns points; the worker delivers the notification.
    const order = await rawRequest(app, { query: 'mutation { recordOrder(input: { memberId: "ava", orderId: "W-1", lines: [{ sku: "LATTE", category: "espresso", qty: 1, price: "4.50" }] }) { __typename } }' }, key);
    expect(order.errors ?? []).toEqual([]);
    await expect.poll(() => received.length, { timeout: 20_000 }).toBe(1);
    expect(received[0]).toEqual({ type: 'points.earned', member: 'ava' });
    const delivery = page.locator('#deliveries tbody tr').first();
    await expect
      .poll(async () => {
        await page.getByRole('button', { name: 'Refresh' }).click();
        return delivery.getAttribute('data-status');
      }, { timeout: 20_000 })
      .toBe('DELIVERED');
    const row = await delivery.textContent();
    for (const text of ['Delivered', 'points.earned', 'ava', hooks, 'HTTP 200']) expect(row).toContain(text);
    expect(await page.locator('#deliveries tbody tr').count()).toBe(1);
    expect(await delivery.locator('td[data-label="Attempts"]').textContent()).toBe('1');
    await shot(page, 'webhooks');

    // Resend: the receiver gets it again and the delivery is delivered again.
    await delivery.getByRole('button', { name: `Resend points.earned for ava to ${hooks}` }).click();
    await expect.poll(() => page.locator('#webhooks-message').textContent(), SLOW).toContain('Sent again: points.earned for ava');
    await expect.poll(() => received.length, { timeout: 20_000 }).toBe(2);
    await expect
      .poll(async () => {
        await page.getByRole('button', { name: 'Refresh' }).click();
        return delivery.getAttribute('data-status');
      }, { timeout: 20_000 })
      .toBe('DELIVERED');

    // Disable it: the next write is not sent.
    await page.getByRole('button', { name: `Disable ${hooks}` }).click();
    await expect.poll(() => page.locator('#webhooks-message').textContent(), SLOW).toBe(`${hooks} is disabled.`);
    expect(await endpoint.textContent()).toContain('Disabled');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe(`Enable ${hooks}`);
    const listed = await rawRequest(app, { query: '{ webhookEndpoints { url enabled types } }' }, key);
    expect(listed.data).toEqual({ webhookEndpoints: [{ url: hooks, enabled: false, types: ['POINTS_EARNED'] }] });

    // Phone width: one column, nothing wider than the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    const widest = await page.locator('#deliveries td, #endpoints td').evaluateAll((cells) => Math.max(...cells.map((c) => c.getBoundingClientRect().right)));
    expect(widest).toBeLessThanOrEqual(390);
    await page.locator('#deliveries-title').evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await shot(page, 'webhooks-phone');
    await page.setViewportSize({ width: 1280, height: 900 });

    // Delete, after a confirmation: Cancel keeps it, "Delete endpoint" removes it and its deliveries.
    await page.getByRole('button', { name: `Delete ${hooks}` }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete this endpoint?' });
    await dialog.waitFor();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('cancel-delete');
    await page.keyboard.press('Enter');
    await expect.poll(() => dialog.isVisible(), SLOW).toBe(false);
    expect(await page.locator('#endpoints tbody tr').count()).toBe(1);
    await page.getByRole('button', { name: `Delete ${hooks}` }).click();
    await dialog.getByRole('button', { name: 'Delete endpoint' }).click();
    await expect.poll(() => page.locator('#webhooks-message').textContent(), SLOW).toBe(`Deleted ${hooks}.`);
    expect(await page.locator('#endpoints tbody tr').count()).toBe(0);
    expect(await page.locator('#deliveries tbody tr').count()).toBe(0);
    expect((await rawRequest(app, { query: '{ webhookEndpoints { id } }' }, key)).data).toEqual({ webhookEndpoints: [] });

    expect(errors).toEqual([]);
    expect(masked).toEqual([]);
    await page.close();
  });
});

async function shot(page: Page, name: string, { fullPage = false } = {}): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });
}

// The README shows the screenshots this test takes, and they are committed.
test('the README shows the console screenshots', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  for (const name of ['sign-in', 'program-diagnostic', 'publish-confirm', 'program-history', 'members', 'member', 'member-phone', 'program-phone', 'webhooks', 'webhooks-phone']) {
    expect(readme).toContain(`docs/screenshots/${name}.png`);
    expect(existsSync(join(ROOT, `docs/screenshots/${name}.png`)), name).toBe(true);
  }
});
