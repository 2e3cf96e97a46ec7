import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { SandboxInfo } from '@paddock/core';
import { type BrowserContext, chromium } from 'playwright-core';
import { startBenchDaemon } from './bench-daemon.js';
import type { BenchContext } from './benchmarks.js';
import type { Cleanup } from './cleanup.js';
import { procStatusBytes, toMiB } from './memory.js';
import { sleep } from './timed-spawn.js';

const now = () => performance.now();
// Debian's chromium, as the dashboard's browser tests drive it.
const chromiumPath = '/usr/bin/chromium';
const rows = 'tr[data-sandbox]';

interface PageDocument {
  document: {
    querySelectorAll(selector: string): { length: number };
    querySelector(selector: string): { getAttribute(name: string): string | null } | null;
  };
}

/**
 * The dashboard in a real browser while `listed` sandboxes are alive (the
 * density section's): a fresh page of #/sandboxes, from navigation to its
 * first sandbox row and to the whole list on screen, `rounds` times; then a
 * sandbox made through the API, from the API's answer to its row on the open
 * page. The list draws only the rows in view: "the whole list on screen" is
 * the table counting all `listed` (aria-rowcount) with the rows in view drawn.
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
    for (let round = 0; round < ctx.config.warmup + rounds; round++) {
      ctx.signal.throwIfAborted();
      const page = await context.newPage();
      const t0 = now();
      await page.goto(`${daemon.endpoint.url}/#/sandboxes`);
      await page.locator(rows).first().waitFor({ timeout: 60_000 });
      const first = now() - t0;
      // A function, not text: the app's CSP forbids eval, and a function goes over the DevTools protocol.
      // The bench is not compiled against the DOM's types, hence the narrow view of the page's document.
      await page.waitForFunction(
        ([selector, n]) => {
          const { document } = globalThis as unknown as PageDocument;
          const counted = Number(document.querySelector('table.sandboxes')?.getAttribute('aria-rowcount') ?? 0) - 1;
          return counted >= (n as number) && document.querySelectorAll(selector as string).length >= Math.min(n as number, 10);
        },
        [rows, listed],
        { timeout: 120_000, polling: 'raf' },
      );
      const all = now() - t0;
      if (round >= ctx.config.warmup) {
        samples.add('dashboard.firstRow', first);
        samples.add('dashboard.allRows', all);
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
 * median of five readings a second apart, after the browser has gone).
 */
export async function benchDashboardRss(
  root: string,
  cacheDir: string,
  cleanup: Cleanup,
  loads = 5,
): Promise<{ offMiB: number; servedMiB: number; loads: number } | null> {
  if (!existsSync(chromiumPath)) return null;
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
