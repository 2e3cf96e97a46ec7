import { createHash } from 'node:crypto';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RecordingFrame } from '@paddock/core';

/** A desktop takeover's frames stop here, as a cast does at 64 MiB: a busy screen must not fill the daemon's disk. */
export const maxFrameBytes = 64 * 1024 * 1024;
/** And at this many frames (an hour at one a second). */
export const maxFrames = 3600;

/** A frame's file name: its index and the milliseconds since the takeover began. */
const frameName = /^(\d{6})-(\d{1,10})\.png$/;

export interface FrameRecorderOptions {
  /** `<dir>/<sandbox>/<session>.frames`, made here (0700); each frame a PNG file in it (0600). */
  folder: string;
  /** One screenshot of the desktop (the daemon's own desktop call: bounded, a checked PNG). */
  shoot: (signal: AbortSignal) => Promise<Buffer>;
  intervalMs: number;
  /** Told once when frames stop before the takeover ends (the desktop went away, or a bound was reached). */
  onStop?: (why: string) => void;
}

/**
 * The screen of a desktop while a person holds it: a screenshot every
 * `intervalMs`, kept when it differs from the one before, until a bound
 * (bytes, frames) or the handback. Shots go one at a time; a failed one is
 * skipped, three in a row stop the recording (the desktop is gone).
 */
export class FrameRecorder {
  private readonly stop = new AbortController();
  private readonly started = performance.now();
  private count = 0;
  private size = 0;
  private last = '';
  private failures = 0;
  private loop: Promise<void> = Promise.resolve();

  private constructor(private readonly o: FrameRecorderOptions) {}

  static async start(o: FrameRecorderOptions): Promise<FrameRecorder> {
    await mkdir(o.folder, { recursive: true, mode: 0o700 });
    const recorder = new FrameRecorder(o);
    recorder.loop = recorder.run();
    return recorder;
  }

  /** Stops shooting (a shot under way is let finish and kept); how many frames and bytes were kept. */
  async close(): Promise<{ count: number; bytes: number }> {
    this.stop.abort();
    await this.loop;
    return { count: this.count, bytes: this.size };
  }

  private async run(): Promise<void> {
    const signal = this.stop.signal;
    while (!signal.aborted) {
      const began = performance.now();
      const why = await this.shootOnce();
      if (why) {
        this.o.onStop?.(why);
        return;
      }
      const wait = Math.max(0, this.o.intervalMs - (performance.now() - began));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        signal.addEventListener(
          'abort',
          () => {
            clearTimeout(timer);
            resolve();
          },
          { once: true },
        );
      });
    }
  }

  /** One frame; a reason when recording must stop. */
  private async shootOnce(): Promise<string | undefined> {
    const at = Math.round(performance.now() - this.started);
    // Not the loop's signal: a shot under way when the takeover ends is still the takeover's last picture.
    const png = await this.o.shoot(AbortSignal.timeout(Math.max(5_000, this.o.intervalMs * 5))).catch(() => undefined);
    if (!png) return ++this.failures >= 3 ? 'the desktop stopped answering' : undefined;
    this.failures = 0;
    const digest = createHash('sha256').update(png).digest('hex');
    if (digest === this.last) return undefined;
    if (this.size + png.length > maxFrameBytes || this.count >= maxFrames) return `the recording reached its bound (${maxFrames} frames or 64 MiB)`;
    await writeFile(join(this.o.folder, `${String(this.count).padStart(6, '0')}-${at}.png`), png, { mode: 0o600, flag: 'wx' });
    this.last = digest;
    this.count++;
    this.size += png.length;
    return undefined;
  }
}

/** The frames kept in a folder, in order; none when there is no folder. */
export async function listFrames(folder: string): Promise<RecordingFrame[]> {
  const names = await readdir(folder).catch(() => [] as string[]);
  const frames: RecordingFrame[] = [];
  for (const name of names.sort()) {
    const m = frameName.exec(name);
    if (!m) continue;
    const info = await stat(join(folder, name)).catch(() => undefined);
    if (info?.isFile()) frames.push({ index: Number(m[1]), atMs: Number(m[2]), bytes: info.size });
  }
  return frames;
}

/** The file of frame `index`, if the folder holds it. */
export async function framePath(folder: string, index: number): Promise<string | undefined> {
  const prefix = `${String(index).padStart(6, '0')}-`;
  const names = await readdir(folder).catch(() => [] as string[]);
  const name = names.find((n) => n.startsWith(prefix) && frameName.test(n));
  return name ? join(folder, name) : undefined;
}
