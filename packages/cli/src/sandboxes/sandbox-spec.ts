import { limitBounds, parseSizeMiB, sandboxTimeoutBounds } from '@paddock/core/client';
import type { SandboxCreateOptions } from '@paddock/sdk';
import { UsageError } from '../errors/cli-error.js';
import { checkRange } from '../options/check-range.js';
import { parseOptionalDuration } from '../options/parse-duration.js';
import { parseEnv } from '../options/parse-env.js';
import { parsePositiveNumber } from '../options/parse-number.js';
import { parsePairs } from '../options/parse-pairs.js';
import type { SandboxFlags } from './sandbox-flags.js';

export type SandboxSpec = Pick<
  SandboxCreateOptions,
  'template' | 'timeoutMs' | 'limits' | 'writableLayer' | 'env' | 'metadata' | 'tier' | 'onTimeout' | 'network' | 'secrets' | 'volumes' | 'startCommand'
>;

/** Turns sandbox flags into create options; bad values fail here, before anything is created. */
export function sandboxSpec(flags: SandboxFlags): SandboxSpec {
  return {
    template: flags.template ?? 'base',
    timeoutMs: parseOptionalDuration(flags.timeout, '--timeout', sandboxTimeoutBounds),
    limits: sandboxLimits(flags),
    writableLayer: parseWritableLayer(flags),
    env: parseEnv(flags.env),
    metadata: parsePairs(flags.label, '--label'),
    tier: parseTier(flags.tier),
    onTimeout: parseOnTimeout(flags.onTimeout),
    network: sandboxNetwork(flags),
    secrets: flags.secret,
    volumes: flags.volume?.map(parseVolume),
    ...(flags.start === false ? { startCommand: false } : {}),
  };
}

/** `-v repo:/work`, `-v cache:/data:ro`. */
function parseVolume(text: string): NonNullable<SandboxSpec['volumes']>[number] {
  const match = /^([a-z0-9][a-z0-9_.-]*):(\/[^:]*)(?::(ro|rw))?$/.exec(text);
  if (!match) throw new UsageError(`--volume: expected NAME:/path or NAME:/path:ro, got "${text}"`);
  return { name: match[1] as string, path: match[2] as string, readOnly: match[3] === 'ro' };
}

function sandboxNetwork(flags: SandboxFlags): SandboxSpec['network'] {
  const mode = flags.net;
  if (mode !== undefined && mode !== 'proxy' && mode !== 'none') throw new UsageError(`--net: expected proxy or none, got "${mode}"`);
  if (mode === 'none' && (flags.allowDomain?.length || flags.secret?.length)) {
    throw new UsageError('--net none: a sandbox without network takes no --allow-domain or --secret');
  }
  if (mode === undefined && !flags.allowDomain && !flags.denyDomain) return undefined;
  return { mode, allow: flags.allowDomain, deny: flags.denyDomain };
}

function parseTier(value: string | undefined): SandboxSpec['tier'] {
  if (value === undefined) return undefined;
  if (value === 'container' || value === 'gvisor' || value === 'auto') return value;
  throw new UsageError(`--tier: expected container, gvisor or auto, got "${value}"`);
}

function sandboxLimits(flags: SandboxFlags): SandboxSpec['limits'] {
  const limits: NonNullable<SandboxSpec['limits']> = {};
  if (flags.memory !== undefined) limits.memoryMiB = checkRange(parseSizeMiB(flags.memory, '--memory'), limitBounds.memoryMiB, '--memory', 'size');
  if (flags.disk !== undefined) limits.diskMiB = checkRange(parseSizeMiB(flags.disk, '--disk'), limitBounds.diskMiB, '--disk', 'size');
  if (flags.cpus !== undefined) limits.cpus = checkRange(parsePositiveNumber(flags.cpus, '--cpus'), limitBounds.cpus, '--cpus', 'number');
  if (flags.pids !== undefined) limits.pids = checkRange(parsePositiveNumber(flags.pids, '--pids', 'integer'), limitBounds.pids, '--pids', 'number');
  return Object.keys(limits).length > 0 ? limits : undefined;
}

function parseWritableLayer(flags: SandboxFlags): SandboxSpec['writableLayer'] {
  const value = flags.writableLayer;
  if (value !== undefined && value !== 'tmpfs' && value !== 'disk') throw new UsageError(`--writable-layer: expected tmpfs or disk, got "${value}"`);
  if (flags.diskBacked && value === 'tmpfs') throw new UsageError('--disk-backed and --writable-layer tmpfs contradict each other');
  return flags.diskBacked ? 'disk' : value;
}

function parseOnTimeout(value: string | undefined): SandboxSpec['onTimeout'] {
  if (value === undefined) return undefined;
  if (value === 'kill' || value === 'pause') return value;
  throw new UsageError(`--on-timeout: expected kill or pause, got "${value}"`);
}
