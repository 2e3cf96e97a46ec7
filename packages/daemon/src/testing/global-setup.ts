import { readdirSync } from 'node:fs';
import { cleanupStateDir } from './cleanup.js';

/** Clears state folders of test daemons from an earlier, interrupted run. */
async function sweep(): Promise<void> {
  for (const name of readdirSync('/tmp')) {
    if (name.startsWith('paddock-test-') && !name.endsWith('.log')) await cleanupStateDir(`/tmp/${name}`);
  }
}

export async function setup(): Promise<void> {
  await sweep();
}

export async function teardown(): Promise<void> {
  await sweep();
}
