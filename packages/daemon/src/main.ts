#!/usr/bin/env -S MALLOC_ARENA_MAX=1 MALLOC_MMAP_THRESHOLD_=131072 node --max-semi-space-size=2 --liftoff-only
// A small young generation keeps the daemon's resident memory lower under
// bursts of requests (measured: 105 MiB instead of 134 MiB after 2000 execs,
// 75 MiB instead of 85 MiB at start). One malloc arena instead of one per
// thread: V8's and libuv's worker threads each kept a few MiB of freed memory
// in their own arena (measured: 99 instead of 106 MiB at start). A fixed mmap
// threshold: glibc's own rises to the largest block freed (up to 32 MiB), so
// the start's big passing allocations (compiling Cedar's WebAssembly) were
// then carved from the heap, whose freed middle free() never gives back (measured
// at rest after start: 89.7 instead of 91.7 MiB; blocks under 128 KiB, such as
// a socket's 64 KiB reads, stay in the heap, so an exec makes no more syscalls).
// Pages freed in the middle of that heap go back to the kernel after each full
// V8 collection (memory/malloc-trim.ts).
// Launchers run this file directly so the settings above apply.
import { join } from 'node:path';
import { PaddockError, progressPrinter } from '@paddock/core';
import { ensureBaseLayer } from '@paddock/engine';
import { parseDaemonCommand } from './config/daemon-config.js';
import { startDaemon } from './daemon.js';
import { loadMallocTrim, trimMallocAfterFullGc } from './memory/malloc-trim.js';

async function main(): Promise<void> {
  const parsed = parseDaemonCommand(process.argv.slice(2), process.env);
  if (parsed.command === 'help') {
    process.stdout.write(parsed.text);
    return;
  }
  const { config } = parsed;
  if (parsed.command === 'prepare') {
    // Builds the base template once, with progress; `make up` and `make test` run this.
    const printer = progressPrinter('base template');
    const dir = await ensureBaseLayer({ cacheDir: join(config.cacheDir, 'layers'), onProgress: printer.update });
    printer.done(`base template ready (${dir})`);
    return;
  }
  const daemon = await startDaemon(config);
  // The process's malloc, set up by the shebang above: one trimmer per process, not per daemon a test runs in-process.
  const trim = loadMallocTrim();
  const stopTrimming = trim ? trimMallocAfterFullGc({ trim, logger: daemon.logger, minIntervalMs: 250 }) : () => {};
  if (!trim) daemon.logger.warn('malloc-trim.node is not built (make build): memory freed by malloc stays resident');
  // A bug in one request must not take every sandbox's daemon down with it.
  process.on('unhandledRejection', (err) => daemon.logger.error({ err }, 'unhandled rejection'));
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    stopTrimming();
    await daemon.stop();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  const message = err instanceof PaddockError ? err.message : err instanceof Error ? err.message : String(err);
  process.stderr.write(`paddockd: ${message}\n`);
  // No process.exit(): a start that failed has closed all it opened, so the
  // process ends on its own. Should something stay open (a bug), it is named
  // before the process is made to end anyway.
  process.exitCode = 1;
  setTimeout(() => {
    process.stderr.write(`paddockd: still open after a failed start: ${process.getActiveResourcesInfo().join(', ')}\n`);
    process.exit(1);
  }, 10_000).unref();
});
