import { type ConnectionOptions, Sandbox, type SandboxCreateOptions } from '@paddock/sdk';

export interface SandboxSessionOptions {
  /** Use this sandbox; it is the caller's, so close() leaves it running. */
  sandbox?: Sandbox;
  /** Where the daemon is (default: PADDOCK_URL and PADDOCK_TOKEN). */
  connection?: ConnectionOptions;
  /** How to create the sandbox when none is given: template, tier, network, lifetime… */
  create?: Omit<SandboxCreateOptions, keyof ConnectionOptions | 'signal'>;
}

/**
 * The one sandbox a set of tools works in. Without one given, it is created on
 * the first tool call (a model that never calls a tool costs no sandbox) and
 * killed by close().
 */
export class SandboxSession {
  private pending: Promise<Sandbox> | undefined;
  private readonly owned: boolean;

  constructor(private readonly options: SandboxSessionOptions = {}) {
    this.owned = !options.sandbox;
    if (options.sandbox) this.pending = Promise.resolve(options.sandbox);
  }

  /** The sandbox, created now if this is the first use. */
  sandbox(): Promise<Sandbox> {
    if (!this.pending) {
      const created = Sandbox.create({ ...this.options.connection, ...this.options.create });
      // A failed creation is not remembered: the next call tries again.
      created.catch(() => {
        if (this.pending === created) this.pending = undefined;
      });
      this.pending = created;
    }
    return this.pending;
  }

  /** Kills the sandbox if this session created it; safe to call twice. */
  async close(): Promise<void> {
    const pending = this.pending;
    this.pending = undefined;
    if (!pending || !this.owned) return;
    const sandbox = await pending.catch(() => undefined);
    await sandbox?.kill({ wait: false }).catch(() => {});
  }
}
