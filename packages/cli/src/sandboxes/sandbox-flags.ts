import type { Command } from 'commander';
import { collect } from '../options/collect.js';

export interface SandboxFlags {
  template?: string;
  memory?: string;
  cpus?: string;
  pids?: string;
  disk?: string;
  diskBacked?: boolean;
  writableLayer?: string;
  timeout?: string;
  env?: string[];
  label?: string[];
  tier?: string;
  onTimeout?: string;
  net?: string;
  allowDomain?: string[];
  denyDomain?: string[];
  secret?: string[];
  volume?: string[];
  /** false with --no-start. */
  start?: boolean;
}

/** The options of `run` and `create` that describe the sandbox. */
export function addSandboxFlags(command: Command): Command {
  return command
    .option('-T, --template <name>', 'template to start from', 'base')
    .option('--memory <size>', 'memory limit, e.g. 256m, 1g')
    .option('--cpus <n>', 'CPU quota in cores, e.g. 0.5')
    .option('--pids <n>', 'maximum number of processes and threads')
    .option('--disk <size>', 'size of the writable layer, e.g. 2g')
    .option('--writable-layer <kind>', "where the writable layer lives: tmpfs (in memory) or disk (on the host's disk); default the operator's")
    .option('--disk-backed', 'the writable layer on disk, outside the memory limit (--writable-layer disk)')
    .option('--timeout <duration>', 'lifetime of the sandbox, e.g. 30s, 10m')
    .option('--tier <tier>', "isolation tier: container, gvisor or auto (the operator's minimum)")
    .option('--on-timeout <what>', 'at the timeout: kill (default) or pause')
    .option('-e, --env <KEY=VALUE>', 'environment variable for every command (repeatable)', collect)
    .option('-l, --label <key=value>', 'label, usable as a filter of ls (repeatable)', collect)
    .option('--net <mode>', 'proxy (default: out through the egress proxy, to allowed hosts only) or none (no network at all)')
    .option('--allow-domain <host>', 'a host the sandbox may reach: pypi.org, *.pythonhosted.org, host:port (repeatable)', collect)
    .option('--deny-domain <host>', 'a host refused even when an allowed pattern matches it (repeatable)', collect)
    .option('--secret <name>', 'a secret (paddock secret set) the sandbox holds as a placeholder (repeatable)', collect)
    .option('-v, --volume <name:/path[:ro]>', 'a volume (paddock volume create) to mount, read-write unless :ro (repeatable)', collect)
    .option('--no-start', "do not run the template's start command (its ENTRYPOINT and CMD)");
}
