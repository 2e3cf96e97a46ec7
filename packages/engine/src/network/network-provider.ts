/** What a sandbox's network looks like to the bundle generator. */
export interface NetworkAttachment {
  /** Path of a prepared network namespace to join; absent means a fresh namespace with loopback only. */
  netnsPath?: string;
  /** Variables every command in the sandbox gets (e.g. HTTP_PROXY once egress exists). */
  env?: Record<string, string>;
}

/**
 * The network seam. The Foundation ships loopback-only sandboxes; the egress
 * issue plugs a provider here that builds a netns + veth + proxy per sandbox.
 */
export interface NetworkProvider {
  attach(sandboxId: string): Promise<NetworkAttachment>;
  detach(sandboxId: string): Promise<void>;
}

export class LoopbackOnlyNetwork implements NetworkProvider {
  async attach(): Promise<NetworkAttachment> {
    return {};
  }

  async detach(): Promise<void> {}
}
