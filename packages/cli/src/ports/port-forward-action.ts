import { type PortForward, Sandbox } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { UsageError } from '../errors/cli-error.js';
import { onCleanup } from '../lifecycle/cleanup.js';

/** `paddock port-forward ID LOCAL:REMOTE…`: listens until SIGINT or SIGTERM, one line per connection refused. */
export async function portForward(id: string, specs: string[], flags: { address: string }, command: Command): Promise<void> {
  const mappings = specs.map(parseMapping);
  const sbx = await Sandbox.connect(id, connectionFor(command));
  const forwards: PortForward[] = [];
  for (const { local, remote } of mappings) {
    const fwd = await sbx.ports.forward(remote, {
      localPort: local,
      host: flags.address,
      onError: (err) => process.stderr.write(`port ${remote}: ${err.message}\n`),
    });
    forwards.push(fwd);
    process.stdout.write(`forwarding ${fwd.host}:${fwd.localPort} -> ${id}:${remote}\n`);
  }
  const closed = new Promise<void>((resolve) => {
    onCleanup(async () => {
      await Promise.all(forwards.map((f) => f.close()));
      resolve();
    });
  });
  await closed;
}

function parseMapping(spec: string): { local: number; remote: number } {
  const m = /^(\d{0,5}):(\d{1,5})$/.exec(spec) ?? /^()(\d{1,5})$/.exec(spec);
  const remote = Number(m?.[2]);
  // `REMOTE` alone listens on the same port here; `:REMOTE` on a free one.
  const local = m?.[1] === '' ? (spec.startsWith(':') ? 0 : remote) : Number(m?.[1]);
  if (!m || !(remote >= 1 && remote <= 65_535) || !(local >= 0 && local <= 65_535)) {
    throw new UsageError(`"${spec}" is not LOCAL:REMOTE, REMOTE or :REMOTE (ports 1 to 65535)`);
  }
  return { local, remote };
}
