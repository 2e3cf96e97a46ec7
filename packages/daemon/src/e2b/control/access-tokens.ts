import type { Principal } from '../../auth/token-auth.js';
import type { TenantService } from '../../tenants/tenant-service.js';

/**
 * What a sandbox's envd access token may do: commands, code, files, ports and
 * terminals of that one sandbox (each still decided by policy as its own call).
 */
const envdActions = ['exec', 'code', 'files.read', 'files.write', 'sandbox.attach', 'sandbox.port.list', 'sandbox.port.open'];

/** Enough for every live sandbox of a busy daemon, each with a few clients; the oldest go first. */
const maxHeld = 10_000;

/**
 * The envd access tokens handed out, kept in the daemon's memory: a client
 * that creates and then connects again and again (one serverless call each)
 * gets the same token each time while it works, not a new token per call.
 * The daemon keeps only digests of tokens, so one made before a restart is
 * not found here and a new one is made.
 */
export class AccessTokens {
  private readonly held = new Map<string, { id: string; secret: string }>();

  constructor(private readonly tenants: TenantService) {}

  /** The caller's access token for this sandbox: the one it was given, while that works, or a new one. */
  for(caller: Principal, sandboxId: string): string {
    const key = `${caller.id}\n${sandboxId}`;
    const kept = this.held.get(key);
    if (kept && this.tenants.isLive(kept.id)) return kept.secret;
    this.held.delete(key);
    const made = this.tenants.mintSandboxToken(caller, sandboxId, envdActions);
    if (this.held.size >= maxHeld) {
      const oldest = this.held.keys().next().value;
      if (oldest !== undefined) this.held.delete(oldest);
    }
    this.held.set(key, { id: made.id, secret: made.token });
    return made.token;
  }
}
