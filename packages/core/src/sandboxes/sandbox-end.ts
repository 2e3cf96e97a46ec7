const endings: Record<string, string> = {
  killed: 'was killed',
  timeout: 'timed out',
  oom: 'ran out of memory',
  crashed: 'crashed',
  lost: 'was lost while the daemon was down',
  rollback_failed: 'failed to start again in a rollback',
};

/** Says how a sandbox ended, from its `endReason`: "timed out", not "was timeout". */
export function describeSandboxEnd(endReason: string | null | undefined): string {
  return endings[endReason ?? 'killed'] ?? `ended (${endReason})`;
}
