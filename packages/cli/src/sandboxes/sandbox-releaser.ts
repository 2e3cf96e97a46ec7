import type { Sandbox } from '@paddock/sdk';

/**
 * What to do with a sandbox once the CLI is done with it, however it ends:
 * kill it, or with `keep`, leave it and tell the user its id. Safe to call
 * more than once and while the sandbox is still being created (Ctrl-C).
 */
export function sandboxReleaser(creating: Promise<Sandbox>, keep = false): () => Promise<void> {
  // Creation failures are the caller's to report; here they only mean there is nothing to release.
  creating.catch(() => {});
  let released: Promise<void> | undefined;
  const release = async () => {
    const sbx = await creating.catch(() => undefined);
    if (!sbx) return;
    if (keep) process.stderr.write(`${sbx.id}\n`);
    // The daemon finishes the teardown on its own; waiting for it would only slow the CLI down.
    else await sbx.kill({ wait: false }).catch(() => {});
  };
  return () => (released ??= release());
}
