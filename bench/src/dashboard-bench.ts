import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { SandboxInfo } from '@paddock/core';
import { type BrowserContext, chromium } from 'playwright-core';
import { startBenchDaemon } from './bench-daemon.js';
import type { BenchContext } from './benchmarks.js';
import { Cleanup } from './cleanup.js';
import { procStatusBytes, toMiB } from './memory.js';
import { sleep } from './timed-spawn.js';

const now = () => performance.now();
// Debian's chromium, as the dashboard's browser tests drive it.
const chromiumPath = '/usr/bin/chromium';

interface PageDocument {
  document: {
    querySelectorAll(selector: string): { length: number };
    querySelector(selector: string): { getAttribute(name: string): string | null } | null;
  };
}

/** What the page itself notes (the init script below): when the list was on screen, in its own clock. */
interface PageClock {
  __listShownAt?: number;
  performance: { now(): number };
  requestAnimationFrame(callback: () => void): void;
  setTimeout(callback: () => void): void;
  MutationObserver: new (callback: () => void) => { observe(target: unknown, options: Record<string, unknown>): void; disconnect(): void };
}

/**
 * Runs in each new page before its own scripts: as soon as the table counts
 * `listed` rows and draws those in view, it waits for that frame to be drawn
 * (the next animation frame, then a task after it) and notes the time since
 * navigation started (performance.now() counts from there).
 */
function noteListShown(listed: number): void {
  const page = globalThis as unknown as PageClock & PageDocument;
  const observer = new page.MutationObserver(() => {
    const table = page.document.querySelector('table.sandboxes');
    const counted = Number(table?.getAttribute('aria-rowcount') ?? 0) - 1;
    if (counted < listed || page.document.querySelectorAll('tr[data-sandbox]').length < Math.min(listed, 10)) return;
    observer.disconnect();
    page.requestAnimationFrame(() =>
      page.setTimeout(() => {
        page.__listShownAt = page.performance.now();
      }),
    );
  });
  observer.observe(page.document, { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-rowcount'] });
}

/**
 * The dashboard in a real browser while `listed` sandboxes are alive (the
 * density section's): a fresh page of #/sandboxes, from navigation to the
 * whole list on screen, `rounds` times; then a sandbox made through the API,
 * from the API's answer to its row on the open page. The list draws only the
 * rows in view: "the whole list on screen" is the table counting all `listed`
 * (aria-rowcount) with the rows in view drawn. The page times that itself
 * (navigation start → the frame that shows it is drawn): the driver, polling
 * the page from another process, sees it later (`dashboard.allRowsSeen`) by
 * however long its own round trips take on a loaded machine.
 */
export async function benchDashboard(ctx: BenchContext, listed: number, rounds: number): Promise<void> {
  const { daemon, samples } = ctx;
  if (!existsSync(chromiumPath)) {
    ctx.notes.add(`The dashboard was not measured: ${chromiumPath} is not installed.`);
    return;
  }
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await signIn(context, daemon.endpoint.url, daemon.token);
    await context.addInitScript(noteListShown, listed);
    for (let round = 0; round < ctx.config.warmup + rounds; round++) {
      ctx.signal.throwIfAborted();
      const page = await context.newPage();
      const t0 = now();
      await page.goto(`${daemon.endpoint.url}/#/sandboxes`);
      // A function, not text: the app's CSP forbids eval, and a function goes over the DevTools protocol.
      // The bench is not compiled against the DOM's types, hence the narrow view of the page's window.
      await page.waitForFunction(() => (globalThis as unknown as PageClock).__listShownAt !== undefined, undefined, {
        timeout: 120_000,
        polling: 'raf',
      });
      const seen = now() - t0;
      const shown = await page.evaluate(() => (globalThis as unknown as PageClock).__listShownAt as number);
      if (round >= ctx.config.warmup) {
        samples.add('dashboard.allRows', shown);
        samples.add('dashboard.allRowsSeen', seen);
      }
      if (round < ctx.config.warmup + rounds - 1) await page.close();
    }
    const [page] = context.pages().slice(-1);
    if (!page) return;
    for (let i = 0; i < ctx.config.warmup + rounds; i++) {
      ctx.signal.throwIfAborted();
      const made = await daemon.api.call<SandboxInfo>('POST', '/v1/sandboxes', { template: 'base', timeoutMs: 10 * 60_000 });
      const t0 = now();
      await page.locator(`tr[data-sandbox="${made.id}"]`).waitFor({ timeout: 30_000 });
      if (i >= ctx.config.warmup) samples.add('dashboard.eventToScreen', now() - t0);
      await daemon.api.call('DELETE', `/v1/sandboxes/${made.id}`);
    }
  } finally {
    await browser.close();
  }
}

/**
 * The dashboard's paths in a daemon, once: chromium signs in and loads the
 * sandbox list. False when chromium is not installed.
 */
export async function loadDashboardOnce(url: string, token: string): Promise<boolean> {
  if (!existsSync(chromiumPath)) return false;
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await signIn(context, url, token);
    const page = await context.newPage();
    await page.goto(`${url}/#/sandboxes`);
    await page.getByRole('heading', { name: 'Sandboxes', level: 1 }).waitFor({ timeout: 60_000 });
    await page.close();
    return true;
  } finally {
    await browser.close();
  }
}

/** Signs the browser in as a person would, with the token on the sign-in form: the session cookie stays in the context. */
async function signIn(context: BrowserContext, url: string, token: string): Promise<void> {
  const page = await context.newPage();
  await page.goto(`${url}/`);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Sandboxes', level: 1 }).waitFor({ timeout: 60_000 });
  await page.close();
}

/**
 * What serving the dashboard costs the daemon at rest: two fresh daemons, one
 * with --dashboard-dir '' (no dashboard), the other with the dashboard signed
 * into and loaded `loads` times by chromium; then each one's idle RSS (the
 * median of five readings a second apart, once the browser has gone and both
 * have had a full garbage collection).
 */
export async function benchDashboardRss(
  root: string,
  cacheDir: string,
  cleanup: Cleanup,
  loads = 5,
): Promise<{ offMiB: number; servedMiB: number; loads: number } | null> {
  if (!existsSync(chromiumPath)) return null;
  // Both daemons are stopped when the section ends, not with the run: idle, they would still hold memory and
  // wake for their timers through every later section. (The run's cleanup also stops them, after an interruption.)
  const own = new Cleanup();
  cleanup.add('stop the dashboard-RSS daemons', () => own.run());
  try {
    return await compareDashboardRss(root, cacheDir, own, loads);
  } finally {
    await own.run();
  }
}

async function compareDashboardRss(
  root: string,
  cacheDir: string,
  cleanup: Cleanup,
  loads: number,
): Promise<{ offMiB: number; servedMiB: number; loads: number }> {
  const off = await startBenchDaemon(join(root, 'rss-no-dashboard'), cacheDir, cleanup, { args: ['--dashboard-dir', ''] });
  const served = await startBenchDaemon(join(root, 'rss-dashboard'), cacheDir, cleanup);
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await signIn(context, served.endpoint.url, served.token);
    for (let i = 0; i < loads; i++) {
      const page = await context.newPage();
      await page.goto(`${served.endpoint.url}/#/sandboxes`);
      await page.getByRole('heading', { name: 'Sandboxes', level: 1 }).waitFor({ timeout: 60_000 });
      await page.getByText('No sandboxes match.').waitFor({ timeout: 60_000 });
      await page.close();
    }
  } finally {
    await browser.close();
  }
  // V8's memory reducer shrinks a Node process some 10–30 s after its last
  // burst of work (the daemon's start, or the loads) by ~9 MiB, and not always
  // within a fixed wait: reading one daemon before and the other after it
  // compares nothing. So both get that full collection now (through their
  // inspectors, woken in both alike) and are read after it.
  await Promise.all([off.forceGc(), served.forceGc()]);
  await sleep(2000);
  const offMiB: number[] = [];
  const servedMiB: number[] = [];
  for (let i = 0; i < 5; i++) {
    await sleep(1000);
    offMiB.push(toMiB(procStatusBytes(off.endpoint.pid)));
    servedMiB.push(toMiB(procStatusBytes(served.endpoint.pid)));
  }
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
  return { offMiB: median(offMiB), servedMiB: median(servedMiB), loads };
}
