import { resolve } from 'node:path';
import {
  BadRequestError,
  ownerKindOf,
  ownerPattern,
  parseDurationMs,
  parseHostRule,
  parseSizeBytes,
  templateNamePattern,
  type WritableLayer,
  writableLayers,
} from '@paddock/core';
import { parseCidr } from '../network/address-guard.js';

/**
 * One operator setting of paddockd: its flag, its environment variable, its
 * default and what it accepts. Every setting is read through this table, so
 * `paddockd --help` lists them all and a bad value stops the daemon at start
 * with the setting named, instead of failing a request later.
 */
export interface SettingSpec<T> {
  /** The flag without its dashes: `approval-ttl` for --approval-ttl. */
  flag: string;
  env: string;
  /** What the value is, as help shows it: `<duration>`. */
  value: string;
  help: string;
  /** Parsed like a value given by hand; undefined: none (the setting is optional or derived). */
  default: string | undefined;
  /** How help shows a default that is not a plain value (derived from another setting). */
  shownDefault?: string;
  /** Repeatable flag; its environment variable is a comma-separated list. */
  multiple?: boolean;
  /** Reads one value; throws an Error whose message says what is accepted. */
  parse: (text: string, field: string) => T;
}

/** A bad setting: paddockd refuses to start and prints this one line. */
export class InvalidSettingError extends BadRequestError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(message, details, 'invalid_setting');
  }
}

// Keeps each entry's own default and multiple in its type, so readSettings' result is typed per setting.
const setting = <T, D extends string | undefined, M extends boolean = false>(spec: SettingSpec<T> & { default: D; multiple?: M }) => spec;

const text = (value: string, field: string): string => {
  if (!value.trim()) throw new InvalidSettingError(`${field}: must not be empty`);
  return value.trim();
};

const path = (value: string, field: string): string => resolve(text(value, field));

/** A duration such as 30s, 10m or 1h; a bare number is milliseconds, as the variables' _MS names say. */
const duration =
  (max: { ms: number; text: string }) =>
  (value: string, field: string): number => {
    const ms = /^\s*\d+\s*$/.test(value) ? Number(value) : parseDurationMs(value, field);
    if (!(ms > 0) || ms > max.ms) throw new InvalidSettingError(`${field}: "${value}" must be more than 0 and at most ${max.text}`);
    return ms;
  };

/** A size such as 512m or 1g; a bare number is bytes. */
const bytes = (value: string, field: string): number => parseSizeBytes(value, field);

/** Where the common package managers fetch from: Debian's apt, pip and npm. */
export const defaultBuildHosts = ['deb.debian.org', 'security.debian.org', 'pypi.org', 'files.pythonhosted.org', 'registry.npmjs.org'];

const buildHost = (value: string, field: string): string => {
  const host = text(value, field).toLowerCase();
  if (host !== 'none' && !parseHostRule(host))
    throw new InvalidSettingError(`${field}: "${value}" is not a host (a name, *.name or an address, with :port if need be)`);
  return host;
};

const port = (value: string, field: string): number => {
  const n = /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n > 65_535) throw new InvalidSettingError(`${field}: invalid port "${value}" (0 to 65535; 0 picks a free one)`);
  return n;
};

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const logLevel = (value: string, field: string): string => {
  const level = value.trim().toLowerCase();
  if (!(logLevels as readonly string[]).includes(level))
    throw new InvalidSettingError(`${field}: invalid log level "${value}" (one of ${logLevels.join(', ')})`);
  return level;
};

const ratio = (value: string, field: string): number => {
  const n = /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!(n > 0) || n > 100) throw new InvalidSettingError(`${field}: invalid ratio "${value}" (a number above 0 and at most 100, e.g. 1.5)`);
  return n;
};

const cidr = (value: string, field: string): string => {
  try {
    parseCidr(value.trim());
  } catch {
    throw new InvalidSettingError(`${field}: not an address range: ${value} (use CIDR, e.g. 10.1.0.0/16)`);
  }
  return value.trim();
};

const ingressDomain = (value: string, field: string): string => {
  const domain = value.trim().toLowerCase();
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(domain) || domain.length > 200) {
    throw new InvalidSettingError(`${field}: not a domain name: "${value}" (e.g. sandbox.localhost or sandboxes.example.com)`);
  }
  return domain;
};

const registryHost = (value: string, field: string): string => {
  const host = value.trim().toLowerCase();
  if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$/.test(host)) {
    throw new InvalidSettingError(`${field}: not a registry host: "${value}" (host or host:port, e.g. registry.lan:5000)`);
  }
  return host;
};

export const selfApprovalModes = ['off', 'single-human', 'on'] as const;
export type SelfApproval = (typeof selfApprovalModes)[number];

const selfApproval = (value: string, field: string): SelfApproval => {
  const found = selfApprovalModes.find((mode) => mode === value.trim());
  if (!found) throw new InvalidSettingError(`${field}: "${value}" is not one of ${selfApprovalModes.join(', ')}`);
  return found;
};

const writableLayer = (value: string, field: string): WritableLayer => {
  const found = writableLayers.find((kind) => kind === value.trim());
  if (!found) throw new InvalidSettingError(`${field}: "${value}" is not one of ${writableLayers.join(', ')}`);
  return found;
};

const person = (value: string, field: string): string => {
  const owner = value.trim();
  if (!ownerPattern.test(owner) || ownerKindOf(owner) !== 'human') {
    throw new InvalidSettingError(`${field}: not a person's name: "${value}" (letters, digits and . _ % + @ -, e.g. alice@example.com)`);
  }
  return owner;
};

/** What the E2B SDKs ask for by default, as Paddock has it. */
export const defaultE2bTemplates: Readonly<Record<string, string>> = { base: 'base', 'code-interpreter-v1': 'code-interpreter' };

const e2bTemplate = (value: string, field: string): [string, string] => {
  const [name = '', template = '', ...rest] = value.split('=').map((part) => part.trim());
  if (rest.length || !/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/.test(name) || !templateNamePattern.test(template)) {
    throw new InvalidSettingError(`${field}: "${value}" is not <E2B name>=<Paddock template> (e.g. code-interpreter-v1=code-interpreter)`);
  }
  return [name, template];
};

/** Every setting of paddockd; loadConfig reads them, `paddockd --help` lists them. */
export const daemonSettings = {
  stateDir: setting({
    flag: 'state-dir',
    env: 'PADDOCK_STATE_DIR',
    value: '<dir>',
    help: 'state folder: database, token, keys, sandboxes; one daemon per folder',
    default: '/var/lib/paddock',
    parse: path,
  }),
  cacheDir: setting({
    flag: 'cache-dir',
    env: 'PADDOCK_CACHE_DIR',
    value: '<dir>',
    help: 'cache folder (the base template)',
    default: '/var/cache/paddock',
    parse: path,
  }),
  host: setting({ flag: 'host', env: 'PADDOCK_HOST', value: '<address>', help: 'address the API listens on', default: '127.0.0.1', parse: text }),
  port: setting({ flag: 'port', env: 'PADDOCK_PORT', value: '<port>', help: 'TCP port of the API; 0 picks a free one', default: '7423', parse: port }),
  ingressDomain: setting({
    flag: 'ingress-domain',
    env: 'PADDOCK_INGRESS_DOMAIN',
    value: '<domain>',
    help: 'wildcard domain of port URLs, <port>-<sandbox>.<domain> (point *.<domain> at this daemon; *.localhost needs no DNS)',
    default: 'sandbox.localhost',
    parse: ingressDomain,
  }),
  tlsCert: setting({
    flag: 'tls-cert',
    env: 'PADDOCK_TLS_CERT',
    value: '<file>',
    help: 'PEM certificate (and its chain) for HTTPS on the TCP listener: API, port URLs and WebSockets; a wildcard one covers *.<ingress-domain>; needs --tls-key',
    default: undefined,
    shownDefault: 'none (plain HTTP)',
    parse: path,
  }),
  tlsKey: setting({
    flag: 'tls-key',
    env: 'PADDOCK_TLS_KEY',
    value: '<file>',
    help: 'PEM private key of --tls-cert',
    default: undefined,
    shownDefault: 'none',
    parse: path,
  }),
  logLevel: setting({ flag: 'log-level', env: 'PADDOCK_LOG_LEVEL', value: '<level>', help: logLevels.join(', '), default: 'info', parse: logLevel }),
  configFile: setting({
    flag: 'config',
    env: 'PADDOCK_CONFIG',
    value: '<file>',
    help: 'operator settings file (JSON), e.g. the tier policy',
    default: undefined,
    shownDefault: 'none (embedded defaults)',
    parse: path,
  }),
  policiesDir: setting({
    flag: 'policies',
    env: 'PADDOCK_POLICIES',
    value: '<dir>',
    help: 'folder of Cedar policies (*.cedar), made with the shipped ones on first start',
    default: undefined,
    shownDefault: '<state-dir>/policies',
    parse: path,
  }),
  runcBinary: setting({ flag: 'runc', env: 'PADDOCK_RUNC', value: '<program>', help: 'runc, for the container tier', default: 'runc', parse: text }),
  runscBinary: setting({
    flag: 'runsc',
    env: 'PADDOCK_RUNSC',
    value: '<program>',
    help: 'gVisor’s runsc; the gvisor tier exists only when it is installed',
    default: 'runsc',
    parse: text,
  }),
  maxUploadBytes: setting({
    flag: 'max-upload-bytes',
    env: 'PADDOCK_MAX_UPLOAD_BYTES',
    value: '<size>',
    help: 'largest file upload or stdin stream (e.g. 512m, 1g; a bare number is bytes)',
    default: '1g',
    parse: bytes,
  }),
  approvalTtlMs: setting({
    flag: 'approval-ttl',
    env: 'PADDOCK_APPROVAL_TTL_MS',
    value: '<duration>',
    help: 'how long an asked request waits for a human before it counts as denied (e.g. 30s, 10m, 1h; a bare number is ms)',
    default: '10m',
    parse: duration({ ms: 7 * 86_400_000, text: '7d' }),
  }),
  sessionTtlMs: setting({
    flag: 'session-ttl',
    env: 'PADDOCK_SESSION_TTL_MS',
    value: '<duration>',
    help: 'how long a dashboard sign-in lasts (e.g. 8h; a bare number is ms); it ends sooner when its token is revoked or expires',
    default: '8h',
    parse: duration({ ms: 30 * 86_400_000, text: '30d' }),
  }),
  dashboardDir: setting({
    flag: 'dashboard-dir',
    env: 'PADDOCK_DASHBOARD_DIR',
    value: '<dir>',
    help: "folder of the built dashboard app (index.html, assets/) served at /; '' serves no dashboard",
    default: undefined,
    shownDefault: 'packages/dashboard/dist beside the daemon package',
    // Empty: no dashboard at all (its paths answer as the API's unknown routes do).
    parse: (value: string, field: string) => (value.trim() === '' ? '' : path(value, field)),
  }),
  adminOwner: setting({
    flag: 'admin-owner',
    env: 'PADDOCK_ADMIN_OWNER',
    value: '<person>',
    help: 'who the bootstrap token acts for (a person, e.g. alice@example.com)',
    default: 'admin',
    parse: person,
  }),
  selfApproval: setting({
    flag: 'self-approval',
    env: 'PADDOCK_SELF_APPROVAL',
    value: '<mode>',
    help: 'when a person may approve a request of their own, explicitly and audited: off, single-human (while one person holds tokens), on',
    default: 'single-human',
    parse: selfApproval,
  }),
  auditAnchorFile: setting({
    flag: 'audit-anchor-file',
    env: 'PADDOCK_AUDIT_ANCHOR_FILE',
    value: '<file>',
    help: 'a file outside the state folder (another disk, a mount, a pipe) that gets a copy of every audit anchor',
    default: undefined,
    shownDefault: 'none',
    parse: path,
  }),
  auditSignIntervalMs: setting({
    flag: 'audit-sign-interval',
    env: 'PADDOCK_AUDIT_SIGN_INTERVAL_MS',
    value: '<duration>',
    help: 'how often the audit chain’s head is signed when it moved (e.g. 10s, 1m; a bare number is ms)',
    default: '10s',
    parse: duration({ ms: 86_400_000, text: '1d' }),
  }),
  metricsIntervalMs: setting({
    flag: 'metrics-interval',
    env: 'PADDOCK_METRICS_INTERVAL_MS',
    value: '<duration>',
    help: 'how often running sandboxes’ cgroups are read for metrics (e.g. 2s; a bare number is ms); the last 150 readings are kept',
    default: '2s',
    parse: duration({ ms: 3_600_000, text: '1h' }),
  }),
  statsIntervalMs: setting({
    flag: 'stats-interval',
    env: 'PADDOCK_STATS_INTERVAL_MS',
    value: '<duration>',
    help: 'the interval of one daemon statistics sample (GET /v1/stats, the stats event; e.g. 10s); 180 are kept',
    default: '10s',
    parse: duration({ ms: 3_600_000, text: '1h' }),
  }),
  eventsRecheckMs: setting({
    flag: 'events-recheck',
    env: 'PADDOCK_EVENTS_RECHECK_MS',
    value: '<duration>',
    help: 'how often open event streams check that their token still holds (not revoked or expired) and their session is not ended (e.g. 2s)',
    default: '2s',
    parse: duration({ ms: 60_000, text: '1m' }),
  }),
  overcommit: setting({
    flag: 'overcommit',
    env: 'PADDOCK_OVERCOMMIT',
    value: '<ratio>',
    help: 'how far one sandbox’s memory, CPU and disk limits may go past what the host has (1.5: half as much again)',
    default: '1',
    parse: ratio,
  }),
  writableLayer: setting({
    flag: 'writable-layer',
    env: 'PADDOCK_WRITABLE_LAYER',
    value: '<kind>',
    help: 'where a sandbox’s writable layer lives unless its create says: tmpfs (in memory, counted against its memory) or disk (an ext4 image on the state folder’s disk)',
    default: 'tmpfs',
    parse: writableLayer,
  }),
  dnsServers: setting({
    flag: 'dns-server',
    env: 'PADDOCK_DNS_SERVERS',
    value: '<host[:port]>',
    help: 'DNS server the egress proxy asks; repeatable (the variable: comma-separated)',
    default: undefined,
    shownDefault: 'the host’s own',
    multiple: true,
    parse: text,
  }),
  egressAllowRanges: setting({
    flag: 'egress-allow-range',
    env: 'PADDOCK_EGRESS_ALLOW_RANGES',
    value: '<cidr>',
    help: 'private or loopback range (CIDR) the egress proxy may still connect to; repeatable (the variable: comma-separated)',
    default: undefined,
    shownDefault: 'none',
    multiple: true,
    parse: cidr,
  }),
  insecureRegistries: setting({
    flag: 'insecure-registry',
    env: 'PADDOCK_INSECURE_REGISTRIES',
    value: '<host[:port]>',
    help: 'image registry that may be plain HTTP or unverified TLS; repeatable (the variable: comma-separated)',
    default: undefined,
    shownDefault: 'none',
    multiple: true,
    parse: registryHost,
  }),
  maxImageBytes: setting({
    flag: 'max-image-size',
    env: 'PADDOCK_MAX_IMAGE_SIZE',
    value: '<size>',
    help: 'largest image a template may be made from, unpacked, and largest image archive upload (e.g. 8g)',
    default: '8g',
    parse: bytes,
  }),
  maxImageLayerBytes: setting({
    flag: 'max-image-layer-size',
    env: 'PADDOCK_MAX_IMAGE_LAYER_SIZE',
    value: '<size>',
    help: 'largest single image layer, unpacked (e.g. 4g)',
    default: '4g',
    parse: bytes,
  }),
  buildAllowDomains: setting({
    flag: 'build-allow-domain',
    env: 'PADDOCK_BUILD_ALLOW_DOMAINS',
    value: '<host>',
    help: 'host every template build may reach through the egress proxy (besides its own --allow-domain); repeatable (the variable: comma-separated); none: no defaults',
    default: undefined,
    shownDefault: defaultBuildHosts.join(', '),
    multiple: true,
    parse: buildHost,
  }),
  e2bTemplates: setting({
    flag: 'e2b-template',
    env: 'PADDOCK_E2B_TEMPLATES',
    value: '<name>=<template>',
    help: 'the Paddock template an E2B template name (Sandbox.create(name)) stands for; repeatable (the variable: comma-separated); added to the defaults',
    default: undefined,
    shownDefault: Object.entries(defaultE2bTemplates)
      .map(([name, template]) => `${name}=${template}`)
      .join(', '),
    multiple: true,
    parse: e2bTemplate,
  }),
} as const;

export type DaemonSettingName = keyof typeof daemonSettings;

/** What each setting comes to: one value, a list for repeatable ones, undefined for an optional one left unset. */
export type DaemonSettingValues = {
  [K in DaemonSettingName]: (typeof daemonSettings)[K] extends SettingSpec<infer T>
    ? (typeof daemonSettings)[K] extends { multiple?: true }
      ? T[]
      : (typeof daemonSettings)[K] extends { default: string }
        ? T
        : T | undefined
    : never;
};

/**
 * Reads every setting: a flag wins over its environment variable, which wins
 * over the default. A value that does not parse throws InvalidSettingError
 * naming the flag or variable it came from.
 */
export function readSettings(flags: Record<string, string | string[] | undefined>, env: NodeJS.ProcessEnv): DaemonSettingValues {
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(daemonSettings) as Array<[string, SettingSpec<unknown>]>) {
    values[name] = readSetting(spec, flags[spec.flag], env[spec.env]);
  }
  return values as DaemonSettingValues;
}

function readSetting(spec: SettingSpec<unknown>, flag: string | string[] | undefined, envValue: string | undefined): unknown {
  const parse = (value: string, field: string) => {
    try {
      return spec.parse(value, field);
    } catch (err) {
      if (err instanceof BadRequestError) throw new InvalidSettingError(err.message, { setting: spec.flag });
      throw err;
    }
  };
  if (flag !== undefined) {
    const values = [flag].flat();
    return spec.multiple ? values.map((v) => parse(v, `--${spec.flag}`)) : parse(values.at(-1) ?? '', `--${spec.flag}`);
  }
  // An empty variable counts as unset, as shells and service managers often leave them.
  if (envValue?.trim()) {
    if (!spec.multiple) return parse(envValue, spec.env);
    return envValue
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean)
      .map((v) => parse(v, spec.env));
  }
  if (spec.default === undefined) return spec.multiple ? [] : undefined;
  return parse(spec.default, `--${spec.flag}`);
}
