import { Sandbox } from '@paddock/sdk';
import type { Connection } from '../connection/resolve-connection.js';
import { CliError } from '../errors/cli-error.js';
import { exitCodes } from '../errors/exit-code-for.js';
import type { SandboxSpec } from './sandbox-spec.js';

/** Creates a sandbox; any failure exits 125, as `docker run` does when it gets no container. */
export async function startSandbox(conn: Connection, spec: SandboxSpec): Promise<Sandbox> {
  try {
    return await Sandbox.create({ ...conn, ...spec });
  } catch (err) {
    throw new CliError(`cannot create a sandbox: ${(err as Error).message}`, exitCodes.noSandbox);
  }
}
