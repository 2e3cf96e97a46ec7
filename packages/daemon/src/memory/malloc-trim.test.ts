import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { daemonMain } from '../testing/test-daemon.js';
import { loadMallocTrim, mallocTrimAddonPath } from './malloc-trim.js';

const MiB = 1024 * 1024;
const moduleUrl = pathToFileURL(daemonMain.replace(/main\.js$/, 'memory/malloc-trim.js')).href;

/** The malloc settings the daemon runs with: the NAME=value words of its shebang. */
function daemonMallocEnv(): Record<string, string> {
  const shebang = readFileSync(daemonMain, 'utf8').split('\n', 1)[0] ?? '';
  return Object.fromEntries(shebang.split(' ').flatMap((word) => (/^MALLOC_\w+=\d+$/.test(word) ? [word.split('=') as [string, string]] : [])));
}

/**
 * A process that fills malloc's heap with 60 KiB buffers (each under the
 * daemon's mmap threshold, as a socket read is), keeps one in sixteen so the
 * freed ones leave holes in the middle of the heap, lets a full collection free
 * the rest, and reports its anonymous resident memory (KiB) after the trim
 * would have run. A second burst comes right after the first one's trim,
 * within the interval between trims.
 */
function residentAfterBursts(withTrim: boolean, bursts = 1): { filled: number; after: number } {
  const script = `
    import { readFileSync } from 'node:fs';
    import { loadMallocTrim, trimMallocAfterFullGc } from ${JSON.stringify(moduleUrl)};
    const anon = () => Number(/^RssAnon:\\s+(\\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
    const logger = { warn: (...args) => console.error(...args) };
    if (${withTrim}) trimMallocAfterFullGc({ trim: loadMallocTrim(), logger, minIntervalMs: 300 });
    const kept = [];
    let filled = 0;
    for (let burst = 0; burst < ${bursts}; burst++) {
      if (burst > 0) await new Promise((resolve) => setTimeout(resolve, 150));
      let buffers = [];
      for (let i = 0; i < 1000; i++) {
        const buffer = Buffer.allocUnsafeSlow(60 * 1024).fill(1);
        buffers.push(buffer);
        if (i % 16 === 0) kept.push(buffer);
      }
      filled = anon();
      buffers = null;
      globalThis.gc();
      // Node reports a collection at the event loop's next turn; the daemon's loop turns for its
      // sockets and timers, and V8's memory reducer wakes it for the collection itself.
      await new Promise((resolve) => setImmediate(resolve));
    }
    await new Promise((resolve) => setTimeout(resolve, 800));
    console.log(JSON.stringify({ filled, after: anon(), kept: kept.length }));
  `;
  const run = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], {
    env: { ...process.env, ...daemonMallocEnv() },
    encoding: 'utf8',
  });
  expect(run.stderr).toBe('');
  return JSON.parse(run.stdout) as { filled: number; after: number };
}

describe('malloc trim after a full collection', () => {
  it('runs under the daemon’s malloc settings', () => {
    expect(Object.keys(daemonMallocEnv())).toEqual(expect.arrayContaining(['MALLOC_ARENA_MAX', 'MALLOC_MMAP_THRESHOLD_']));
  });

  it('gives the pages a burst freed in the middle of malloc’s heap back to the kernel', () => {
    const kept = residentAfterBursts(false);
    const trimmed = residentAfterBursts(true);
    // ~55 MiB were freed in holes: without the trim they stay resident, with it they go.
    expect(kept.after * 1024).toBeGreaterThan(kept.filled * 1024 - 10 * MiB);
    expect(trimmed.after * 1024).toBeLessThan(kept.after * 1024 - 40 * MiB);
  });

  it('trims after a collection that comes sooner than the interval, once the interval is over', () => {
    const kept = residentAfterBursts(false, 2);
    const trimmed = residentAfterBursts(true, 2);
    expect(trimmed.after * 1024).toBeLessThan(kept.after * 1024 - 40 * MiB);
  });

  it('is built by make build, and absent it the daemon runs without it', () => {
    expect(loadMallocTrim(mallocTrimAddonPath)).toBeTypeOf('function');
    expect(loadMallocTrim('/nonexistent/malloc-trim.node')).toBeNull();
  });
});
