import type { Command } from 'commander';

export interface QuotaFlags {
  maxSandboxes?: string;
  maxMemory?: string;
  maxCpus?: string;
  maxSnapshots?: string;
  maxSnapshotSize?: string;
  maxVolumes?: string;
  maxVolumeSize?: string;
}

/** The quota options of `tenant create` and `tenant update`; "none" means no limit. */
export function addQuotaFlags(command: Command): Command {
  return command
    .option('--max-sandboxes <n>', 'live sandboxes at once, or "none"')
    .option('--max-memory <size>', 'sum of the memory limits of live sandboxes, e.g. 8g, or "none"')
    .option('--max-cpus <n>', 'sum of the CPU quotas of live sandboxes, e.g. 4, or "none"')
    .option('--max-snapshots <n>', 'snapshots kept at once, or "none"')
    .option('--max-snapshot-size <size>', 'total size of the snapshots kept, e.g. 20g, or "none"')
    .option('--max-volumes <n>', 'volumes kept at once, or "none"')
    .option('--max-volume-size <size>', 'total size of its volumes, e.g. 100g, or "none"');
}
