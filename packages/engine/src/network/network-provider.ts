import type { Tier } from '@paddock/core';

/** What the network of a sandbox about to start should be. */
export interface NetworkRequest {
  id: string;
  tier: Tier;
  /** proxy: out through the egress proxy only; none: loopback and nothing else. */
  mode: 'proxy' | 'none';
  /** Host paths of the template's layers, top first (to read its CA store from). */
  layers: string[];
}

/** What a sandbox's network looks like to the bundle generator. */
export interface NetworkAttachment {
  /** Path of a prepared network namespace to join; absent means a fresh namespace with loopback only. */
  netnsPath?: string;
  /** A sysfs mounted for that namespace, bind-mounted over /sys (a sandbox cannot mount one for a namespace it does not own). */
  sysfsPath?: string;
  /** Variables every command in the sandbox gets (HTTP_PROXY …). */
  env?: Record<string, string>;
  /** Files the sandbox sees read-only: its path → contents (resolv.conf, the CA store …). */
  files?: Record<string, string>;
  /** Whether the agent starts the egress relay inside the sandbox. */
  egress?: boolean;
  /** Runs once the sandbox's run folder exists and before its first process (the daemon listens there). */
  beforeStart?: (runDir: string) => Promise<void>;
}

/**
 * The network seam: the engine asks it for a sandbox's network while it
 * mounts the root, and tells it when the sandbox is gone.
 */
export interface NetworkProvider {
  attach(request: NetworkRequest): Promise<NetworkAttachment>;
  /**
   * Host mount points the sandbox's network holds. A teardown may unmount
   * them together with the sandbox's root (one helper run) and then say so
   * to detach.
   */
  mountsOf?(sandboxId: string): string[];
  detach(sandboxId: string, options?: { unmounted?: boolean }): Promise<void>;
}

export class LoopbackOnlyNetwork implements NetworkProvider {
  async attach(): Promise<NetworkAttachment> {
    return {};
  }

  async detach(): Promise<void> {}
}
