import type { ConnectionLog } from '../connection-log.js';
import type { SandboxNetwork } from '../network-service.js';
import type { Target } from './egress-decider.js';

export type Via = 'http' | 'connect' | 'tls' | 'dns';

/** Writes the proxy's decisions to the connection log: a refusal at once, an allowed connection when it closes. */
export class EgressRecords {
  constructor(
    private readonly connections: Pick<ConnectionLog, 'record'>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records a refusal; nothing when the sandbox has no network left to own it. */
  refuse(sandbox: string, network: SandboxNetwork | undefined, via: Via, host: string, port: number | null, reason: string): void {
    if (!network) return;
    this.connections.record({
      sandbox,
      owner: network.tenant,
      at: new Date(this.now()).toISOString(),
      via,
      host,
      port,
      address: null,
      decision: 'deny',
      reason,
      intercepted: false,
      bytesOut: 0,
      bytesIn: 0,
      durationMs: null,
    });
  }

  /** Starts an allowed connection's record; the function returned writes it with the bytes counted. */
  allowed(network: SandboxNetwork, via: Exclude<Via, 'dns'>, target: Target, intercepted: boolean): (bytesOut: number, bytesIn: number) => void {
    const started = this.now();
    return (bytesOut, bytesIn) =>
      this.connections.record({
        sandbox: network.id,
        owner: network.tenant,
        at: new Date(started).toISOString(),
        via,
        host: target.host,
        port: target.port,
        address: target.address,
        decision: 'allow',
        reason: null,
        intercepted,
        bytesOut,
        bytesIn,
        durationMs: this.now() - started,
      });
  }
}
