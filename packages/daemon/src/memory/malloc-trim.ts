import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants, type NodeGCPerformanceDetail, PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';

/** `make build` compiles packages/daemon/native/malloc-trim.c here (the same path from src/ and dist/). */
export const mallocTrimAddonPath = fileURLToPath(new URL('../../dist/native/malloc-trim.node', import.meta.url));

/** Hands malloc's free pages back to the kernel; true when it released any. */
export type MallocTrim = () => boolean;

/**
 * The addon's trim(), or null where it was not built (a checkout before
 * `make build`): the daemon then keeps malloc's free pages, as Node does.
 */
export function loadMallocTrim(path = mallocTrimAddonPath): MallocTrim | null {
  if (!existsSync(path)) return null;
  const addon = createRequire(import.meta.url)(path) as { trim: MallocTrim };
  return addon.trim;
}

const afterSweepMs = 100;

export interface TrimAfterGcOptions {
  trim: MallocTrim;
  logger: Logger;
  /** Trims no more often than this, however often V8 collects under load; a collection sooner waits for it. */
  minIntervalMs: number;
}

/**
 * Returns malloc's free pages to the kernel after each full V8 collection
 * (V8's memory reducer runs one some seconds after a burst of work ends). With
 * one malloc arena (main.ts), what a burst freed (socket buffers, V8's compiler
 * zones, SQLite's pages) stays resident in the middle of the heap otherwise
 * (measured at rest: 86.9 instead of 93.2 MiB after start, 116.5 instead of
 * 133.7 MiB after the bench's E2B, code, desktop, check and MCP sections). Young collections are left alone: they come
 * every few milliseconds under load, and the freed pages would only be faulted
 * in again. Returns the stop function.
 */
export function trimMallocAfterFullGc({ trim, logger, minIntervalMs }: TrimAfterGcOptions): () => void {
  let lastTrimAt = Number.NEGATIVE_INFINITY;
  let pending: NodeJS.Timeout | undefined;
  const observer = new PerformanceObserver((list) => {
    // A gc entry carries its kind in `detail`, which Node's types leave out of PerformanceEntry.
    const full = list.getEntries().some((entry) => (entry as { detail?: NodeGCPerformanceDetail }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR);
    // One trim waiting covers every collection before it runs.
    if (!full || pending) return;
    // V8 frees dead ArrayBuffers' memory on a background thread after the collection ends.
    const wait = Math.max(afterSweepMs, lastTrimAt + minIntervalMs - performance.now());
    pending = setTimeout(() => {
      pending = undefined;
      lastTrimAt = performance.now();
      try {
        trim();
      } catch (err) {
        logger.warn({ err }, 'malloc_trim failed');
      }
    }, wait);
    pending.unref();
  });
  observer.observe({ entryTypes: ['gc'] });
  return () => {
    observer.disconnect();
    clearTimeout(pending);
  };
}
