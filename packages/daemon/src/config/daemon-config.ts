import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BadRequestError, ownerKindOf, ownerPattern } from '@paddock/core';
import { parseCidr } from '../network/address-guard.js';

export interface DaemonConfig {
  stateDir: string;
  cacheDir: string;
  host: string;
  /** 0 picks a free port (tests); the chosen one is written to endpoint.json. */
  port: number;
  socketPath: string;
  runcBinary: string;
  runcRoot: string;
  /** gVisor's runtime; the gvisor tier exists only when it is installed. */
  runscBinary: string;
  runscRoot: string;
  /** Operator settings file (JSON), e.g. the tier policy; absent means embedded defaults. */
  configFile: string | undefined;
  /** Folder of Cedar policies (*.cedar), made with the shipped defaults on first start. */
  policiesDir: string;
  cgroupParent: string;
  logLevel: string;
  maxUploadBytes: number;
  maxJsonBytes: number;
  maxBuildContextBytes: number;
  outputLimitBytes: number;
  /** How long an asked request waits for a human before it counts as denied. */
  approvalTtlMs: number;
  /** Who the bootstrap token acts for (a person). */
  adminOwner: string;
  /** When a person may approve a request of their own (explicitly, audited): never, while they are the only person holding tokens, or always. */
  selfApproval: SelfApproval;
  /** How often the audit chain's head is signed (when it moved). */
  auditSignIntervalMs: number;
  /** The anchor log: signed heads, outside the database. */
  auditAnchorLog: string;
  /** A file (on another mount, a pipe a shipper reads) that gets a copy of every audit anchor; none when undefined. */
  auditAnchorFile: string | undefined;
  /** DNS servers the egress proxy asks (host or host:port); the host's own when empty. */
  dnsServers: string[];
  /** Address ranges (CIDR) the egress proxy may connect to although they are private, loopback … */
  egressAllowRanges: string[];
}

export const defaultPort = 7423;

export const selfApprovalModes = ['off', 'single-human', 'on'] as const;
export type SelfApproval = (typeof selfApprovalModes)[number];

/** Embedded defaults, overridden by PADDOCK_* variables, overridden by flags. */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv): DaemonConfig {
  const { values } = parseArgs({
    args: argv,
    options: {
      'state-dir': { type: 'string' },
      'cache-dir': { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      'log-level': { type: 'string' },
      'max-upload-bytes': { type: 'string' },
      config: { type: 'string' },
      policies: { type: 'string' },
      'dns-server': { type: 'string', multiple: true },
      'egress-allow-range': { type: 'string', multiple: true },
      'admin-owner': { type: 'string' },
      'self-approval': { type: 'string' },
      'audit-anchor-file': { type: 'string' },
    },
    allowPositionals: true,
  });
  const stateDir = resolve(values['state-dir'] ?? env.PADDOCK_STATE_DIR ?? '/var/lib/paddock');
  const port = Number(values.port ?? env.PADDOCK_PORT ?? defaultPort);
  const auditAnchorFile = optionalPath(values['audit-anchor-file'] ?? env.PADDOCK_AUDIT_ANCHOR_FILE);
  const auditAnchorLog = join(stateDir, 'audit-anchors.log');
  if (auditAnchorFile === auditAnchorLog) {
    throw new BadRequestError('--audit-anchor-file: that is the anchor log itself; name a file outside the state folder (another disk, a mount, a pipe)');
  }
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new BadRequestError(`invalid port ${values.port ?? env.PADDOCK_PORT}`);
  return {
    stateDir,
    cacheDir: resolve(values['cache-dir'] ?? env.PADDOCK_CACHE_DIR ?? '/var/cache/paddock'),
    host: values.host ?? env.PADDOCK_HOST ?? '127.0.0.1',
    port,
    socketPath: join(stateDir, 'paddockd.sock'),
    runcBinary: env.PADDOCK_RUNC ?? 'runc',
    runcRoot: join(stateDir, 'runc'),
    runscBinary: env.PADDOCK_RUNSC ?? 'runsc',
    runscRoot: join(stateDir, 'runsc'),
    configFile: values.config ?? env.PADDOCK_CONFIG,
    policiesDir: resolve(values.policies ?? env.PADDOCK_POLICIES ?? join(stateDir, 'policies')),
    cgroupParent: cgroupParentFor(stateDir),
    logLevel: values['log-level'] ?? env.PADDOCK_LOG_LEVEL ?? 'info',
    maxUploadBytes: Number(values['max-upload-bytes'] ?? env.PADDOCK_MAX_UPLOAD_BYTES ?? 1024 ** 3),
    maxJsonBytes: 4 * 1024 * 1024,
    maxBuildContextBytes: 96 * 1024 * 1024,
    outputLimitBytes: 1024 * 1024,
    approvalTtlMs: Number(env.PADDOCK_APPROVAL_TTL_MS ?? 10 * 60_000),
    adminOwner: checkedAdminOwner(values['admin-owner'] ?? env.PADDOCK_ADMIN_OWNER ?? 'admin'),
    selfApproval: checkedSelfApproval(values['self-approval'] ?? env.PADDOCK_SELF_APPROVAL ?? 'single-human'),
    auditSignIntervalMs: Number(env.PADDOCK_AUDIT_SIGN_INTERVAL_MS ?? 10_000),
    auditAnchorLog,
    auditAnchorFile,
    dnsServers: values['dns-server'] ?? listOf(env.PADDOCK_DNS_SERVERS),
    egressAllowRanges: checkedRanges(values['egress-allow-range'] ?? listOf(env.PADDOCK_EGRESS_ALLOW_RANGES)),
  };
}

function optionalPath(path: string | undefined): string | undefined {
  return path ? resolve(path) : undefined;
}

function listOf(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function checkedAdminOwner(owner: string): string {
  if (!ownerPattern.test(owner) || ownerKindOf(owner) !== 'human') {
    throw new BadRequestError(`--admin-owner: not a person's name: ${owner} (letters, digits and . _ % + @ -, e.g. alice@example.com)`);
  }
  return owner;
}

function checkedSelfApproval(mode: string): SelfApproval {
  const found = selfApprovalModes.find((m) => m === mode);
  if (!found) throw new BadRequestError(`--self-approval: ${mode} is not one of ${selfApprovalModes.join(', ')}`);
  return found;
}

function checkedRanges(ranges: string[]): string[] {
  for (const range of ranges) {
    try {
      parseCidr(range);
    } catch {
      throw new BadRequestError(`--egress-allow-range: not an address range: ${range} (use CIDR, e.g. 10.1.0.0/16)`);
    }
  }
  return ranges;
}

/** Each state folder gets its own cgroup parent, so daemons never share one. */
export function cgroupParentFor(stateDir: string): string {
  return `paddock-${createHash('sha256').update(stateDir).digest('hex').slice(0, 8)}`;
}
