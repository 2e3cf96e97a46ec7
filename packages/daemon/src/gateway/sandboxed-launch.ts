import type { GatewayManifest, SandboxCreate } from '@paddock/core';
import type { ProcessExit, ProcessManager } from '../commands/process-manager.js';
import { gatewayOwner } from '../sandboxes/sandbox-owners.js';
import type { SandboxService } from '../sandboxes/sandbox-service.js';
import { resolveHostMounts } from './host-files.js';
import type { LaunchServer } from './supervised-server.js';

/** The label every gateway sandbox carries: which server runs in it. */
const gatewayLabel = 'paddock.gateway';

/** The sandbox a manifest asks for: its template, tier, limits, hosts and secrets; nothing else. */
export function sandboxRequestOf(name: string, manifest: GatewayManifest): SandboxCreate {
  const allow = manifest.network?.allow ?? [];
  const secrets = manifest.secrets ?? [];
  // A server that may reach no host and holds no secret gets no network at all, not even the proxy.
  const network = allow.length || secrets.length ? { mode: 'proxy' as const, allow, deny: manifest.network?.deny ?? [] } : { mode: 'none' as const };
  return {
    template: manifest.template,
    tier: manifest.tier,
    ...(manifest.limits ? { limits: manifest.limits } : {}),
    network,
    ...(secrets.length ? { secrets } : {}),
    ...(manifest.volumes?.length ? { volumes: manifest.volumes } : {}),
    metadata: { [gatewayLabel]: name },
    // The sandbox runs the server's command, not its template's.
    startCommand: false,
  };
}

/**
 * Starts a tenant's gateway server: a fresh sandbox owned by the gateway
 * (no token of the tenant reaches it), then the server's command in it with
 * stdin held open. Stopping it kills the sandbox and all it ran.
 */
export function sandboxedLaunch(
  deps: { sandboxes: SandboxService; processes: ProcessManager; protectedPaths: readonly string[] },
  server: { tenant: string; name: string; command: string[]; manifest: GatewayManifest },
): LaunchServer {
  const owner = gatewayOwner(server.tenant);
  return async (output, signal) => {
    const { manifest } = server;
    const hostMounts = await resolveHostMounts(manifest, deps.protectedPaths);
    const sandbox = await deps.sandboxes.create(owner, sandboxRequestOf(server.name, manifest), { keepAlive: true, hostMounts, signal });
    const stop = async () => {
      await deps.sandboxes.kill(owner, sandbox.id).catch(() => {});
    };
    try {
      const proc = await deps.processes.start(
        sandbox,
        {
          cmd: server.command,
          ...(manifest.env ? { env: manifest.env } : {}),
          ...(manifest.cwd ? { cwd: manifest.cwd } : {}),
          ...(manifest.user ? { user: manifest.user } : {}),
        },
        {
          keepStdinOpen: true,
          signal,
          subscriber: {
            push(event) {
              if (event.type === 'stdout') output.stdout(event.data);
              else if (event.type === 'stderr') output.stderr(event.data);
              return true;
            },
          },
        },
      );
      return { sandboxId: sandbox.id, write: (data) => proc.write(data), ended: proc.done.then(describeExit), stop };
    } catch (err) {
      await stop();
      throw err;
    }
  };
}

function describeExit(exit: ProcessExit): string {
  if (exit.oomKilled) return 'killed for using more memory than its limit';
  if (exit.signal) return `ended by ${exit.signal}`;
  return `exited with code ${exit.exitCode}`;
}
