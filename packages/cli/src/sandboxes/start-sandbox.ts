import type { Connection } from '@paddock/sdk';
import { Sandbox } from '@paddock/sdk';
import { CliError, UsageError } from '../errors/cli-error.js';
import { exitCodeFor, exitCodes } from '../errors/exit-code-for.js';
import { nameFlags } from '../errors/name-flags.js';
import { prepareBuiltInTemplate } from '../templates/prepare-template.js';
import type { SandboxSpec } from './sandbox-spec.js';

// The create request's fields, as the flags of run and create set them.
const sandboxFlags: Record<string, string> = {
  template: '--template',
  timeoutMs: '--timeout',
  'limits.memoryMiB': '--memory',
  'limits.cpus': '--cpus',
  'limits.pids': '--pids',
  'limits.diskMiB': '--disk',
  writableLayer: '--writable-layer',
  env: '--env',
  metadata: '--label',
  tier: '--tier',
  onTimeout: '--on-timeout',
  'network.mode': '--net',
  'network.allow': '--allow-domain',
  'network.deny': '--deny-domain',
  secrets: '--secret',
  startCommand: '--no-start',
};

/** Creates a sandbox; a failure exits 125, as `docker run` does when it gets no container; bad input 2, as everywhere. */
export async function startSandbox(conn: Connection, spec: SandboxSpec): Promise<Sandbox> {
  try {
    await prepareBuiltInTemplate(conn, spec.template);
    return await Sandbox.create({ ...conn, ...spec });
  } catch (err) {
    const named = nameFlags(err, sandboxFlags);
    if (named instanceof UsageError) throw named;
    const code = exitCodeFor(err) === exitCodes.badInput ? exitCodes.badInput : exitCodes.noSandbox;
    throw new CliError(`cannot create a sandbox: ${(err as Error).message}`, code);
  }
}
