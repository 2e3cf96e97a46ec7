import { isBuiltInTemplate } from '@paddock/core/client';
import { type Connection, Templates } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { withBuildProgress } from './build-progress.js';

/** `paddock template prepare NAME`: builds a template the daemon carries now, with its progress; prints the name. */
export async function prepareTemplate(name: string, _flags: unknown, command: Command): Promise<void> {
  const ready = await withBuildProgress(name, (onEvent) => Templates.prepare(name, { ...connectionFor(command), onEvent }));
  process.stdout.write(`${ready.name}\n`);
}

/**
 * Before `create` or `run` asks for a template the daemon carries: its
 * first-use build (minutes) shown as it goes, steps only without a terminal.
 * A token that may not inspect templates skips this, and its create waits
 * for the same build, as before.
 */
export async function prepareBuiltInTemplate(conn: Connection, template: string | undefined): Promise<void> {
  if (template === undefined || !isBuiltInTemplate(template)) return;
  await withBuildProgress(template, (onEvent) => Templates.prepare(template, { ...conn, onEvent }), { plainLogs: false }).catch((err: { status?: number }) => {
    if (err.status !== 403) throw err;
  });
}
