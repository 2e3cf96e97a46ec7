import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { cleanupStateDir } from './cleanup.js';

/**
 * Clears state folders of test daemons from an earlier, interrupted run,
 * leaving alone those of daemons still running (another run going on at the
 * same time) or still starting.
 */
async function sweep(): Promise<void> {
  for (const name of readdirSync('/tmp')) {
    const dir = `/tmp/${name}`;
    if (name.startsWith('paddock-test-') && !name.endsWith('.log') && !inUse(dir)) await cleanupStateDir(dir);
  }
}

function inUse(dir: string): boolean {
  const endpoint = `${dir}/endpoint.json`;
  if (!existsSync(endpoint)) {
    // No daemon listens yet: one may be starting, unless the folder is old.
    try {
      return Date.now() - statSync(dir).mtimeMs < 5 * 60_000;
    } catch {
      return false;
    }
  }
  try {
    const { pid } = JSON.parse(readFileSync(endpoint, 'utf8')) as { pid: number };
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function setup(): Promise<void> {
  await sweep();
}

export async function teardown(): Promise<void> {
  await sweep();
}
