import { BadRequestError, ipVersion, type SandboxCreate } from '@paddock/core';
import { z } from 'zod';
import type { SandboxRecord } from '../../store/sandbox-store.js';
import { envdVersion } from '../envd-version.js';

// E2B's request bodies as its SDKs send them. Not Paddock's API: they stay here.
// Fields a newer SDK adds are ignored unless Paddock would do something other than asked.

const E2bNetworkSchema = z.object({
  allowOut: z.array(z.string()).optional(),
  denyOut: z.array(z.string()).optional(),
  allowPublicTraffic: z.boolean().optional(),
  maskRequestHost: z.string().optional(),
  httpsPorts: z.array(z.number()).optional(),
  egressProxy: z.unknown().optional(),
  rules: z.unknown().optional(),
});

export const E2bNewSandboxSchema = z.object({
  templateID: z.string().min(1).max(256),
  timeout: z.number().int().min(0).optional(),
  metadata: z.record(z.string(), z.string()).optional(),
  envVars: z.record(z.string(), z.string()).optional(),
  allow_internet_access: z.boolean().optional(),
  network: E2bNetworkSchema.optional(),
  autoPause: z.boolean().optional(),
  autoPauseMemory: z.boolean().optional(),
  autoResume: z.object({ enabled: z.boolean() }).optional(),
  // Every call to a Paddock sandbox is authenticated: secure or not, it gets an access token.
  secure: z.boolean().optional(),
  mcp: z.unknown().optional(),
  iam: z.unknown().optional(),
  volumeMounts: z.array(z.object({ name: z.string(), path: z.string() })).optional(),
});
export type E2bNewSandbox = z.infer<typeof E2bNewSandboxSchema>;

export const E2bConnectSchema = z.object({ timeout: z.number().int().min(0).optional(), memory: z.boolean().optional() });
export const E2bResumeSchema = z.object({ timeout: z.number().int().min(0).optional(), autoPause: z.boolean().optional(), memory: z.boolean().optional() });
export const E2bTimeoutSchema = z.object({ timeout: z.number().int().min(0) });
export const E2bRefreshSchema = z.object({ duration: z.number().int().min(0).optional() });
export const E2bPauseSchema = z.object({ memory: z.boolean().optional() });
export const E2bForkSchema = z.object({ timeout: z.number().int().min(0).optional(), count: z.number().int().min(1).max(16).optional() });
export const E2bSnapshotSchema = z.object({ name: z.string().min(1).max(128).optional() });
export const E2bNetworkUpdateSchema = E2bNetworkSchema.extend({ allow_internet_access: z.boolean().optional() });

/** E2B's sandbox timeouts are seconds; Paddock's milliseconds. */
export function secondsToMs(seconds: number): number {
  return seconds * 1000;
}

/** The Paddock template an E2B name stands for: an operator's alias, or a Paddock template (a snapshot) by its own name. */
export function templateOf(name: string, aliases: Readonly<Record<string, string>>): string {
  return aliases[name] ?? name;
}

/** The E2B name a Paddock template goes by, if an alias names it. */
export function aliasOf(template: string, aliases: Readonly<Record<string, string>>): string | undefined {
  return Object.entries(aliases).find(([, t]) => t === template)?.[0];
}

/**
 * A Paddock create request for an E2B one. What Paddock cannot do as asked is
 * refused, naming the option, rather than quietly done otherwise.
 */
export function toSandboxCreate(body: E2bNewSandbox, aliases: Readonly<Record<string, string>>): SandboxCreate {
  refuseUnsupported(body);
  const network = networkOf(body.network, body.allow_internet_access);
  return {
    template: templateOf(body.templateID, aliases),
    ...(body.timeout !== undefined ? { timeoutMs: secondsToMs(body.timeout) } : {}),
    ...(body.metadata && Object.keys(body.metadata).length ? { metadata: body.metadata } : {}),
    ...(body.envVars && Object.keys(body.envVars).length ? { env: body.envVars } : {}),
    ...(body.autoPause ? { onTimeout: 'pause' as const } : {}),
    ...(network ? { network } : {}),
    ...(body.volumeMounts?.length ? { volumes: body.volumeMounts.map((v) => ({ name: v.name, path: v.path })) } : {}),
  };
}

function refuseUnsupported(body: E2bNewSandbox): void {
  if (body.mcp !== undefined && body.mcp !== null)
    unsupported('mcp', "Paddock runs no MCP gateway inside a sandbox; use Paddock's MCP gateway (docs/gateway.md)");
  if (body.iam !== undefined && body.iam !== null) unsupported('iam', 'Paddock issues no workload identity tokens; use secrets (docs/network.md)');
  if (body.autoPauseMemory === false) unsupported('autoPauseMemory', 'a Paddock pause always keeps memory (the processes are frozen)');
  if (body.autoResume?.enabled) unsupported('autoResume', 'a paused Paddock sandbox resumes only when asked (Sandbox.connect)');
}

/** E2B's egress options as Paddock's: hosts allowed through the egress proxy, or no network at all. */
export function networkOf(
  network: z.infer<typeof E2bNetworkSchema> | undefined,
  allowInternetAccess: boolean | undefined,
): SandboxCreate['network'] | undefined {
  if (network?.egressProxy !== undefined && network.egressProxy !== null)
    unsupported('network.egressProxy', "sandbox traffic leaves only through Paddock's own egress proxy");
  if (network?.rules !== undefined) unsupported('network.rules', 'use Paddock secrets to add credentials to requests (docs/network.md)');
  if (network?.maskRequestHost !== undefined) unsupported('network.maskRequestHost', 'port URLs pass the Host header on as it is');
  if (network?.httpsPorts !== undefined) unsupported('network.httpsPorts', 'port URLs reach servers inside over plain HTTP');
  if (network?.allowPublicTraffic === true)
    unsupported('network.allowPublicTraffic', 'port URLs need a token; make a public link with `paddock port expose --public`');
  const allow = (network?.allowOut ?? []).map((rule) => hostRule(rule, 'network.allowOut'));
  // Paddock's proxy refuses whatever is not allowed: "deny everything" is what it does already.
  const deny = (network?.denyOut ?? []).filter((rule) => !denyAll.has(rule.trim())).map((rule) => hostRule(rule, 'network.denyOut'));
  const denyEverything = (network?.denyOut ?? []).some((rule) => denyAll.has(rule.trim()));
  if (allowInternetAccess === false || denyEverything) {
    if (allow.length === 0) return { mode: 'none' };
  }
  if (allow.length === 0 && deny.length === 0) return undefined;
  return { mode: 'proxy', ...(allow.length ? { allow } : {}), ...(deny.length ? { deny } : {}) };
}

const denyAll = new Set(['0.0.0.0/0', '::/0']);

/** A host, a wildcard or one address; Paddock's rules name hosts, not ranges. */
function hostRule(rule: string, field: string): string {
  const text = rule.trim();
  const slash = text.indexOf('/');
  if (slash < 0) return text;
  const address = text.slice(0, slash);
  const bits = text.slice(slash + 1);
  const version = ipVersion(address);
  if ((version === 4 && bits === '32') || (version === 6 && bits === '128')) return address;
  throw new BadRequestError(
    `${field}: ${rule} is an address range; Paddock's egress rules name hosts or single addresses`,
    { field, rule },
    'unsupported_option',
  );
}

function unsupported(field: string, why: string): never {
  throw new BadRequestError(`${field} is not supported by Paddock: ${why}`, { field }, 'unsupported_option');
}

/** What the SDKs read to reach a sandbox, after a create or a connect. */
export interface E2bSandbox {
  sandboxID: string;
  templateID: string;
  alias?: string;
  clientID: string;
  envdVersion: string;
  envdAccessToken: string;
  domain: string | null;
  /** The same token: the code-interpreter SDK sends only this one on its context calls. */
  trafficAccessToken: string;
}

/** E2B's deprecated client id: the SDKs still require the field. */
const clientID = 'paddock';

export function toE2bSandbox(
  record: SandboxRecord,
  context: { aliases: Readonly<Record<string, string>>; accessToken: string; domain: string | null },
): E2bSandbox {
  const alias = aliasOf(record.template, context.aliases);
  return {
    sandboxID: record.id,
    templateID: record.template,
    ...(alias ? { alias } : {}),
    clientID,
    envdVersion,
    envdAccessToken: context.accessToken,
    domain: context.domain,
    trafficAccessToken: context.accessToken,
  };
}

export interface E2bListedSandbox {
  sandboxID: string;
  templateID: string;
  alias?: string;
  clientID: string;
  startedAt: string;
  endAt: string;
  cpuCount: number;
  memoryMB: number;
  diskSizeMB: number;
  state: 'running' | 'paused';
  envdVersion: string;
  metadata: Record<string, string>;
  volumeMounts: Array<{ name: string; path: string }>;
}

export function toE2bListed(record: SandboxRecord, aliases: Readonly<Record<string, string>>, now: number): E2bListedSandbox {
  const alias = aliasOf(record.template, aliases);
  return {
    sandboxID: record.id,
    templateID: record.template,
    ...(alias ? { alias } : {}),
    clientID,
    startedAt: record.createdAt,
    endAt: endAtOf(record, now),
    // E2B counts whole cores; a Paddock sandbox may have a fraction of one.
    cpuCount: Math.max(1, Math.ceil(record.limits.cpus)),
    memoryMB: record.limits.memoryMiB,
    diskSizeMB: record.limits.diskMiB,
    state: record.state === 'paused' ? 'paused' : 'running',
    envdVersion,
    metadata: record.metadata,
    volumeMounts: [],
  };
}

export function toE2bDetail(
  record: SandboxRecord,
  context: { aliases: Readonly<Record<string, string>>; domain: string | null; now: number; network?: { mode: string; allow: string[]; deny: string[] } },
) {
  const network = context.network;
  return {
    ...toE2bListed(record, context.aliases, context.now),
    domain: context.domain,
    allowInternetAccess: network ? network.mode !== 'none' : null,
    lifecycle: { onTimeout: record.onTimeout, autoResume: false },
    ...(network && network.mode !== 'none' ? { network: { allowOut: network.allow, denyOut: network.deny } } : {}),
  };
}

/** When the sandbox ends unless extended: a paused one's clock stands still, so counted from now. */
function endAtOf(record: SandboxRecord, now: number): string {
  if (record.expiresAt) return record.expiresAt;
  if (record.endedAt) return record.endedAt;
  return new Date(now + (record.pausedLeftMs ?? 0)).toISOString();
}

/** One reading as E2B's metrics: CPU in percent of the sandbox's cores, memory and disk in bytes. */
export function toE2bMetric(
  sample: { at: string; cpuPercent: number; memoryBytes: number; memoryLimitBytes: number | null },
  record: SandboxRecord,
  disk: { used: number; total: number },
) {
  const cores = Math.max(1, Math.ceil(record.limits.cpus));
  const at = Date.parse(sample.at);
  return {
    timestamp: new Date(at).toISOString(),
    timestampUnix: Math.floor(at / 1000),
    cpuCount: cores,
    cpuUsedPct: Math.round((sample.cpuPercent / cores) * 100) / 100,
    memUsed: sample.memoryBytes,
    memTotal: sample.memoryLimitBytes ?? record.limits.memoryMiB * 1024 * 1024,
    memCache: 0,
    diskUsed: disk.used,
    diskTotal: disk.total,
  };
}
