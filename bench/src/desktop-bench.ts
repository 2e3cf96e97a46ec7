import { readFileSync } from 'node:fs';
import { Pools, Sandbox } from '@paddock/sdk';
import type { BenchContext } from './benchmarks.js';
import { hostUsedBytes, procStatusBytes, toMiB } from './memory.js';
import { sleep } from './timed-spawn.js';

const now = () => performance.now();
const limits = { memoryMiB: 1024 };

/** A Tk window at 0,0 whose colour flips (white ↔ black) on each click: the pixel change a click makes. */
const flipApp = `
import tkinter as tk
root = tk.Tk()
root.title('paddock-bench-flip')
root.geometry('200x200+0+0')
root.configure(bg='white')
def flip(e):
    root.configure(bg='black' if root.cget('bg') == 'white' else 'white')
root.bind('<Button-1>', flip)
root.mainloop()
`;

/**
 * The same screenshot taken by a command inside the sandbox the common way
 * (Pillow's grab over the X socket, PNG at the lowest zlib effort), timed
 * there: no agent, no daemon, no HTTP. The helper grabs through MIT-SHM
 * instead. Prints one time in ms a line.
 */
const insideShot = `
import io, time
from PIL import ImageGrab
for i in range(25):
    t = time.perf_counter()
    img = ImageGrab.grab(xdisplay=':0')
    buf = io.BytesIO()
    img.save(buf, 'PNG', compress_level=1)
    print((time.perf_counter() - t) * 1000)
`;

export type DesktopOutcome =
  | {
      measured: true;
      /** Idle desktops alive at once, each with its helper running, and what they cost. */
      idle: { count: number; daemonRssMiB: number; daemonRssBeforeMiB: number; hostUsedMiB: number; hostUsedBeforeMiB: number };
      /** Of the click rounds, how many showed the change in the first screenshot after the click. */
      firstShotShowedClick: number;
      clickRounds: number;
    }
  | { measured: false; reason: string };

/**
 * The desktop's targets: the first screenshot of a desktop claimed from a
 * warm pool (and of one made cold, for scale), the screenshot round trip at
 * 1280×800 through the SDK (beside the same screenshot taken by a command
 * inside the sandbox), a click until its pixel change shows in a screenshot, and idle
 * desktops alive at once with the daemon's and the host's memory. The first
 * sandbox builds the desktop template into the bench daemon's state if it
 * has none.
 */
export async function benchDesktop(ctx: BenchContext): Promise<DesktopOutcome> {
  const { daemon, samples, config } = ctx;
  const conn = { url: daemon.endpoint.url, token: daemon.token };
  let sbx: Sandbox;
  try {
    sbx = await Sandbox.create({ ...conn, template: 'desktop', limits, requestTimeoutMs: 60 * 60_000 });
  } catch (err) {
    return { measured: false, reason: `no desktop sandbox: ${(err as Error).message}` };
  }
  let firstShotShowedClick = 0;
  const clickRounds = Math.max(10, Math.min(config.cliIterations, 30));
  try {
    await sbx.desktop.screenshot({ timeoutMs: 60_000 });
    const shots = Math.max(20, Math.min(config.execIterations, 100));
    for (let round = 0; round < config.warmup * 5 + shots; round++) {
      ctx.signal.throwIfAborted();
      const t = now();
      const png = await sbx.desktop.screenshot();
      const took = now() - t;
      if (png.length < 33) throw new Error('a screenshot came back empty');
      if (round >= config.warmup * 5) samples.add('desktop.screenshot.sdk', took);
    }
    const inside = await sbx.commands.run(['python3', '-c', insideShot], { timeoutMs: 120_000 });
    if (inside.exitCode !== 0) throw new Error(`the in-sandbox screenshot failed: ${inside.stderr.slice(-300)}`);
    for (const line of inside.stdout.trim().split('\n').slice(config.warmup)) samples.add('desktop.screenshot.inside', Number(line));
    ctx.progress(`  screenshot: ${shots} through the SDK, 25 inside the sandbox`);

    await sbx.files.write('/tmp/flip.py', flipApp);
    await sbx.desktop.launch('python3', ['/tmp/flip.py']);
    const deadline = Date.now() + 60_000;
    while (!(await sbx.desktop.windows()).some((w) => w.title === 'paddock-bench-flip')) {
      if (Date.now() > deadline) throw new Error('the Tk app did not open its window within 60 s');
      await sleep(200);
    }
    for (let round = 0; round < config.warmup + clickRounds; round++) {
      ctx.signal.throwIfAborted();
      const before = Buffer.from(await sbx.desktop.screenshot());
      const t = now();
      await sbx.desktop.click(100, 100);
      // Nothing else on this screen moves (no cursor, no clock): any byte of the PNG that differs is the flip.
      let shotsTaken = 0;
      for (;;) {
        shotsTaken++;
        if (!Buffer.from(await sbx.desktop.screenshot()).equals(before)) break;
        if (now() - t > 10_000) throw new Error('a click changed no pixel within 10 s');
      }
      const took = now() - t;
      if (round < config.warmup) continue;
      samples.add('desktop.clickToPixel', took);
      if (shotsTaken === 1) firstShotShowedClick++;
    }
    ctx.progress(`  click → pixel change: ${clickRounds} clicks, ${firstShotShowedClick} seen in the first screenshot after`);
  } finally {
    await sbx.kill().catch(() => {});
  }

  for (let round = 0; round < 3; round++) {
    ctx.signal.throwIfAborted();
    const t = now();
    const cold = await Sandbox.create({ ...conn, template: 'desktop', limits });
    await cold.desktop.screenshot({ timeoutMs: 60_000 });
    samples.add('desktop.firstShot.cold', now() - t);
    await cold.kill().catch(() => {});
  }
  ctx.progress('  first screenshot, cold: 3 sandboxes');

  const warmed = () => (readFileSync(daemon.logFile, 'utf8').match(/pooled sandbox warmed/g) ?? []).length;
  const base = warmed();
  const rounds = Math.max(5, Math.min(config.cliIterations, 10));
  const pool = await Pools.set({ template: 'desktop', size: 1, limits }, conn);
  try {
    for (let round = 0; round < rounds; round++) {
      ctx.signal.throwIfAborted();
      // Each claim takes the pool's one desktop; the next round waits for the refill to be warmed (display up, helper running).
      const wait = Date.now() + 5 * 60_000;
      while (warmed() < base + round + 1) {
        if (Date.now() > wait) throw new Error('the pool did not warm a desktop within 5 minutes');
        await sleep(200);
      }
      const t = now();
      const claimed = await Sandbox.create({ ...conn, template: 'desktop', limits });
      await claimed.desktop.screenshot();
      samples.add('desktop.firstShot.pool', now() - t);
      await claimed.kill().catch(() => {});
    }
    ctx.progress(`  first screenshot from a warm pool: ${rounds} claims`);
  } finally {
    await Pools.remove(pool.id, conn).catch(() => {});
  }

  const count = 10;
  await sleep(1000);
  const daemonRssBeforeMiB = toMiB(procStatusBytes(daemon.endpoint.pid));
  const hostUsedBeforeMiB = toMiB(hostUsedBytes());
  const idle: Sandbox[] = [];
  try {
    for (let i = 0; i < count; i++) {
      ctx.signal.throwIfAborted();
      const d = await Sandbox.create({ ...conn, template: 'desktop', limits });
      idle.push(d);
      await d.desktop.screenshot({ timeoutMs: 60_000 });
    }
    // Settled: every desktop up, its helper waiting; then all of them still answer.
    await sleep(5000);
    const daemonRssMiB = toMiB(procStatusBytes(daemon.endpoint.pid));
    const hostUsedMiB = toMiB(hostUsedBytes());
    for (const d of idle) await d.desktop.screenshot();
    ctx.progress(`  ${count} idle desktops alive, each answering a screenshot`);
    return { measured: true, idle: { count, daemonRssMiB, daemonRssBeforeMiB, hostUsedMiB, hostUsedBeforeMiB }, firstShotShowedClick, clickRounds };
  } finally {
    await Promise.all(idle.map((d) => d.kill().catch(() => {})));
  }
}
