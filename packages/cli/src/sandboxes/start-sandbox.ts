import type { Connection } from '@paddock/sdk';
import { Sandbox } from '@paddock/sdk';
import { CliError } from '../errors/cli-error.js';
import { exitCodeFor, exitCodes } from '../errors/exit-code-for.js';
import type { SandboxSpec } from './sandbox-spec.js';

/** Creates a sandbox; a failure exits 125, as `docker run` does when it gets no container; bad input 2, as everywhere. */
export async function startSandbox(conn: Connection, spec: SandboxSpec): Promise<Sandbox> {
  try {
    return await Sandbox.create({ ...conn, ...spec });
  } catch (err) {
    const code = exitCodeFor(err) === exitCodes.badInput ? exitCodes.badInput : exitCodes.noSandbox;
    throw new CliError(`cannot create a sandbox: ${(err as Error).message}`, code);
  }
}
