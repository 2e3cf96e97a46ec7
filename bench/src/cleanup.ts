import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

type Step = { name: string; run: () => Promise<void> | void };

/**
 * Everything the bench creates registers its own undo here, newest first.
 * run() executes them all (each failure is reported, none stops the rest) and
 * is safe to call twice: on success, on an error, and on SIGINT/SIGTERM.
 */
export class Cleanup {
  private readonly steps: Step[] = [];
  private running: Promise<void> | null = null;

  add(name: string, run: Step['run']): void {
    this.steps.push({ name, run });
  }

  run(): Promise<void> {
    if (!this.running) {
      this.running = (async () => {
        while (this.steps.length > 0) {
          const step = this.steps.pop() as Step;
          try {
            await withTimeout(Promise.resolve().then(step.run), 60_000, step.name);
          } catch (err) {
            console.error(`cleanup: ${step.name} failed: ${(err as Error).message}`);
          }
        }
      })();
    }
    return this.running;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms);
    }),
  ]);
}

/** Mount points at or below a directory, deepest last in /proc order. */
export function mountsUnder(prefix: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => (l.split(' ')[4] ?? '').replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8))))
    .filter((m) => m === prefix || m.startsWith(`${prefix}/`));
}

/**
 * Last-resort sweep of a bench-owned directory: force-deletes the runc
 * containers of every runc root below it, detaches every mount below it, removes it.
 */
export function sweepDir(dir: string, runcRoots: string[]): void {
  for (const root of runcRoots) {
    if (!existsSync(root)) continue;
    for (const id of readdirSync(root)) {
      try {
        execFileSync('runc', ['--root', root, 'delete', '--force', id], { stdio: 'ignore', timeout: 30_000 });
      } catch {
        // already gone
      }
    }
  }
  for (const mount of mountsUnder(dir).reverse()) {
    try {
      execFileSync('umount', ['--lazy', mount], { stdio: 'ignore' });
    } catch {
      // raced with an earlier step
    }
  }
  rmSync(dir, { recursive: true, force: true });
}

/** Removes a cgroup parent (and empty children) from every v1 hierarchy, or the v2 tree. */
export function removeCgroupParent(parent: string): void {
  const root = '/sys/fs/cgroup';
  const candidates = existsSync(join(root, 'cgroup.controllers'))
    ? [join(root, parent)]
    : readdirSync(root)
        .map((c) => join(root, c, parent))
        .filter((d) => existsSync(d));
  for (const dir of candidates) removeCgroupDir(dir);
}

function removeCgroupDir(dir: string): void {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) removeCgroupDir(join(dir, entry.name));
  }
  try {
    rmdirSync(dir);
  } catch {
    // still has processes; the runtime's delete is responsible for those
  }
}
