import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FastDaemon, startFastDaemon } from '../testing/fast-daemon.js';

// The dashboard's long list and its audit search in Debian's chromium, over a
// fast daemon (its sandboxes are folders: 500 of them cost seconds). What needs
// real sandboxes in the page (takeover, approvals, CSRF) is in
// dashboard-browser.test.ts. Screenshots go to test-results/dashboard/.

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const shots = join(repoRoot, 'test-results/dashboard');
const listed = 500;
const rows = 'table.sandboxes tbody tr[data-sandbox]';

let daemon: FastDaemon;
let browser: Browser;
let page: Page;
const ids: string[] = [];

async function mint(body: Record<string, string>): Promise<string> {
  const res = await daemon.api('/v1/tokens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(201);
  return ((await res.json()) as { token: string }).token;
}

async function create(token: string, n: number): Promise<string> {
  const res = await fetch(`${daemon.url}/v1/sandboxes`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ template: 'base', timeoutMs: 3_600_000, metadata: { n: String(n) } }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

/** The aria-rowindex of the row holding the focused element (0 when none). */
const focusedRow = () => page.evaluate(`Number(document.activeElement?.closest('tr[aria-rowindex]')?.getAttribute('aria-rowindex') ?? 0)`) as Promise<number>;

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  daemon = await startFastDaemon();
  const alice = await mint({ role: 'operator', owner: 'alice@example.com' });
  const bot = await mint({ role: 'agent', owner: 'agent:ci-bot' });
  // Eight at a time: on a fast daemon a sandbox is a folder and a socket.
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < listed) {
        const n = next++;
        ids[n] = await create(n % 5 === 0 ? bot : alice, n);
      }
    }),
  );
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  await page.goto(`${daemon.url}/`);
  await page.getByLabel('API token').fill(daemon.token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Sandboxes', level: 1 }).waitFor();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await daemon?.stop();
});

describe('the sandbox list in a browser, 500 sandboxes', () => {
  it('draws the rows in view, not all 500, and says how many there are', async () => {
    await page.locator(rows).first().waitFor();
    const table = page.locator('table.sandboxes');
    expect(await table.getAttribute('aria-rowcount')).toBe(String(listed + 1));
    const drawn = await page.locator(rows).count();
    expect(drawn).toBeGreaterThan(10);
    expect(drawn).toBeLessThan(100);
    // Each drawn row says where it is in the whole list: the first is row 2 (the header is 1).
    expect(await page.locator(rows).first().getAttribute('aria-rowindex')).toBe('2');
    await page.locator('.table-scroll').screenshot({ path: join(shots, 'sandboxes-500.png') });
  });

  it('fits the window at 1280×800, 1920×1080 and 800×800: the last column (Network) ends inside it, nothing scrolls sideways', async () => {
    await page.locator(rows).first().waitFor();
    const lastHeader = page.locator('table.sandboxes thead th').last();
    expect(await lastHeader.textContent()).toBe('Network');
    for (const size of [
      { width: 1280, height: 800 },
      { width: 1920, height: 1080 },
      { width: 800, height: 800 },
    ]) {
      await page.setViewportSize(size);
      const box = await lastHeader.boundingBox();
      expect(box, `the Network column at ${size.width}×${size.height}`).not.toBeNull();
      expect((box?.x ?? 0) + (box?.width ?? 0), `the Network column's right edge at ${size.width}×${size.height}`).toBeLessThanOrEqual(size.width);
      // The list's own box: its content is no wider than what it shows.
      const [scrollWidth, clientWidth] = (await page.evaluate(
        `[document.querySelector('.table-scroll').scrollWidth, document.querySelector('.table-scroll').clientWidth]`,
      )) as [number, number];
      expect(scrollWidth, `the list's width at ${size.width}×${size.height}`).toBeLessThanOrEqual(clientWidth);
      // Each drawn row's network figure is in its cell, inside the window too.
      const cell = await page.locator(rows).first().locator('td').last().boundingBox();
      expect((cell?.x ?? 0) + (cell?.width ?? 0)).toBeLessThanOrEqual(size.width);
      await page.screenshot({ path: join(shots, `sandboxes-500-${size.width}x${size.height}.png`) });
    }
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('shows each sandbox’s owner, and filters by owner', async () => {
    const first = page.locator(rows).first();
    const id = (await first.getAttribute('data-sandbox')) as string;
    const owner = ids.indexOf(id) % 5 === 0 ? 'agent:ci-bot' : 'alice@example.com';
    await expect.poll(() => first.locator('td').nth(5).textContent()).toBe(owner);
    await page.getByLabel('Owner').selectOption('agent:ci-bot');
    await expect.poll(() => page.locator('table.sandboxes').getAttribute('aria-rowcount')).toBe(String(listed / 5 + 1));
    const owners = await page.locator(`${rows} td:nth-child(6)`).allTextContents();
    expect(new Set(owners)).toEqual(new Set(['agent:ci-bot']));
    // The search box finds owners too.
    await page.getByLabel('Owner').selectOption('');
    await page.getByLabel('Search').fill('alice@');
    await expect.poll(() => page.locator('table.sandboxes').getAttribute('aria-rowcount')).toBe(String(listed - listed / 5 + 1));
    await page.getByLabel('Search').fill('');
    await expect.poll(() => page.locator('table.sandboxes').getAttribute('aria-rowcount')).toBe(String(listed + 1));
  });

  it('scrolling reaches row 500: the last row is drawn at the bottom, the top ones are gone', async () => {
    const bottom = `tr[aria-rowindex="${listed + 1}"]`;
    expect(await page.locator(bottom).count()).toBe(0);
    await page.evaluate(`document.querySelector('.table-scroll').scrollTop = 1e9`);
    const last = page.locator(bottom);
    await last.waitFor();
    expect(ids).toContain(await last.getAttribute('data-sandbox'));
    expect(await last.isVisible()).toBe(true);
    // Still few rows drawn, and the top of the list is gone from the page.
    expect(await page.locator(rows).count()).toBeLessThan(100);
    expect(await page.locator('tr[aria-rowindex="2"]').count()).toBe(0);
    await page.locator('.table-scroll').screenshot({ path: join(shots, 'sandboxes-500-bottom.png') });
  });

  it('moves focus by keyboard: arrows, Page Down, End and Home, drawing the rows they reach', async () => {
    await page.evaluate(`document.querySelector('.table-scroll').scrollTop = 0`);
    await page.locator('tr[aria-rowindex="2"]').waitFor();
    await page.locator('tr[aria-rowindex="2"] a').focus();
    expect(await focusedRow()).toBe(2);
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await expect.poll(focusedRow).toBe(4);
    await page.keyboard.press('ArrowUp');
    await expect.poll(focusedRow).toBe(3);
    await page.keyboard.press('PageDown');
    await expect.poll(focusedRow).toBeGreaterThan(10);
    await page.keyboard.press('End');
    await expect.poll(focusedRow).toBe(listed + 1);
    // The focused row is the last one, scrolled into view.
    expect(await page.locator(`tr[aria-rowindex="${listed + 1}"]`).isVisible()).toBe(true);
    await page.keyboard.press('Home');
    await expect.poll(focusedRow).toBe(2);
    // Enter on the focused link opens that sandbox.
    const topId = await page.locator('tr[aria-rowindex="2"]').getAttribute('data-sandbox');
    await page.keyboard.press('Enter');
    await page.waitForURL(`**/#/sandboxes/${topId}`);
  });
});

describe('the audit view searches on the server', () => {
  it('filters by sandbox, action and text through GET /v1/audit, and pages older records', async () => {
    const target = ids[7] as string;
    const exec = await daemon.api(`/v1/sandboxes/${target}/exec`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ cmd: ['echo', 'audit-needle-42'] }),
    });
    expect(exec.status).toBe(200);
    const asked: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/v1/audit?')) asked.push(decodeURIComponent(r.url()));
    });
    await page.goto(`${daemon.url}/#/audit`);
    await page.getByRole('heading', { name: 'Audit', level: 1 }).waitFor();
    // 500 creations and more: the first page is a page, with more to ask for (each read of the log
    // is audited too, and followed live: a few more may come in).
    const auditRows = page.locator('table.audit tbody tr');
    await auditRows.first().waitFor();
    const firstPage = await auditRows.count();
    expect(firstPage).toBeGreaterThanOrEqual(100);
    expect(firstPage).toBeLessThan(110);
    await page.getByRole('button', { name: /Older records/ }).click();
    await expect.poll(() => auditRows.count()).toBeGreaterThanOrEqual(firstPage + 100);

    await page.getByLabel('Search').fill('audit-needle-42');
    await expect.poll(() => auditRows.count()).toBe(1);
    expect(await auditRows.locator('td').nth(3).textContent()).toBe('sandbox.exec');
    expect(await auditRows.locator('td').nth(4).textContent()).toBe(`sandbox:${target}`);
    await expect.poll(() => asked.some((url) => url.includes('q=audit-needle-42'))).toBe(true);

    await page.getByLabel('Search').fill('');
    await page.getByLabel('Sandbox').fill(target);
    await page.getByLabel('Action').fill('sandbox.*');
    await expect.poll(() => asked.some((url) => url.includes(`sandbox=${target}`) && url.includes('action=sandbox.*'))).toBe(true);
    await expect.poll(() => auditRows.allTextContents()).toHaveLength(1);
    expect(await auditRows.locator('td').nth(4).textContent()).toBe(`sandbox:${target}`);
    await page.screenshot({ path: join(shots, 'audit-filtered.png'), fullPage: true });
  });
});
