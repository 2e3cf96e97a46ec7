type Cleanup = () => unknown;

const pending = new Set<Cleanup>();

/**
 * Registers work that must happen however the CLI ends (normal exit, error,
 * Ctrl-C, closed pipe), such as killing the sandbox of `run`. Returns a
 * function that unregisters it.
 */
export function onCleanup(cleanup: Cleanup): () => void {
  pending.add(cleanup);
  return () => pending.delete(cleanup);
}

/** Runs each registered cleanup once; their failures are not the user's concern. */
export async function runCleanups(): Promise<void> {
  const cleanups = [...pending];
  pending.clear();
  await Promise.allSettled(cleanups.map(async (cleanup) => cleanup()));
}
