import { createHash, createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WritableLayer } from '@paddock/core';
import { Command, CommanderError, Option } from 'commander';
import {
  type DaemonSettingValues,
  daemonSettings,
  defaultBuildHosts,
  defaultE2bTemplates,
  InvalidSettingError,
  readSettings,
  type SelfApproval,
  type SettingSpec,
} from './daemon-settings.js';
import { readTestWeakening, type TestWeakening, testWeakeningVariable } from './test-weakening.js';

export interface DaemonConfig {
  stateDir: string;
  cacheDir: string;
  host: string;
  /** 0 picks a free port (tests); the chosen one is written to endpoint.json. */
  port: number;
  /** Port URLs are <port>-<sandbox>.<ingressDomain> on the API's listener. */
  ingressDomain: string;
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
  /** How long a dashboard session lasts at most. */
  sessionTtlMs: number;
  /** The built dashboard app served at /; the daemon package's sibling packages/dashboard/dist unless set. */
  /** The built dashboard served at /; null when serving is off (--dashboard-dir ''). */
  dashboardDir: string | null;
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
  /** Hosts every template build may reach through the egress proxy, besides the build's own. */
  buildAllowDomains: string[];
  /** E2B template names (Sandbox.create('base')) and the Paddock templates they stand for. */
  e2bTemplates: Readonly<Record<string, string>>;
  /** Bytes of live events one client may have waiting before it is dropped. */
  eventQueueBytes: number;
  /** How often an open events stream checks that its authentication still holds. */
  eventsRecheckMs: number;
  /** How often running sandboxes' cgroups are sampled for metrics. */
  metricsIntervalMs: number;
  /** The interval one daemon statistics sample counts over. */
  statsIntervalMs: number;
  /** How far one sandbox's limits may go past the host's memory, CPUs and disk (1: not at all). */
  overcommit: number;
  /** Where a sandbox's writable layer lives when its create does not say. */
  writableLayer: WritableLayer;
  /** Image registries (host or host:port) that may be plain HTTP or unverified TLS. */
  insecureRegistries: string[];
  /** Largest image, unpacked, a template may be made from; also the largest image archive upload. */
  maxImageBytes: number;
  /** Largest single image layer, unpacked. */
  maxImageLayerBytes: number;
  /** The operator's certificate and key (PEM): the TCP listener speaks HTTPS; none: plain HTTP. */
  tls: DaemonTls | undefined;
  /** Isolation taken away for a test (PADDOCK_TEST_WEAKEN only); nothing in production. */
  testWeakening: TestWeakening;
}

export interface DaemonTls {
  cert: string;
  key: string;
}

export const defaultPort = Number(daemonSettings.port.default);

/** What a paddockd command line asks for. */
export type DaemonCommand = { command: 'serve' | 'prepare'; config: DaemonConfig } | { command: 'help'; text: string };

/**
 * Reads the command line and the environment. Help (--help, -h or `help`)
 * comes back as text before any setting is read, so asking for it never
 * touches a state folder; a bad flag or value throws InvalidSettingError with
 * one line naming it.
 */
export function parseDaemonCommand(argv: string[], env: NodeJS.ProcessEnv): DaemonCommand {
  const program = daemonProgram();
  try {
    program.parse(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError && (err.code === 'commander.helpDisplayed' || err.code === 'commander.help')) {
      return { command: 'help', text: helpText(program) };
    }
    if (err instanceof CommanderError) throw new InvalidSettingError(err.message.replace(/^error: /, ''));
    throw err;
  }
  const [command = 'serve'] = program.args;
  if (command === 'help') return { command: 'help', text: helpText(program) };
  if (command !== 'prepare' && command !== 'serve') throw new InvalidSettingError(`unknown command "${command}" (prepare, help; none serves)`);
  // By flag name (commander keys them camelCased), as the settings table names them.
  const given = program.opts();
  const flags = Object.fromEntries(program.options.map((o) => [o.long?.replace(/^--/, ''), given[o.attributeName()]]));
  const config = configFrom(readSettings(flags, env));
  return { command, config: { ...config, testWeakening: readTestWeakening(env[testWeakeningVariable], config.stateDir) } };
}

/** Embedded defaults, overridden by PADDOCK_* variables, overridden by flags. */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv): DaemonConfig {
  const parsed = parseDaemonCommand(argv, env);
  if (parsed.command === 'help') throw new InvalidSettingError('help asked for; there is no config to load');
  return parsed.config;
}

function helpText(program: Command): string {
  return `${program.helpInformation()}
A flag wins over its variable, which wins over the default.
Durations: 500ms, 30s, 10m, 1h, 7d. Sizes: 512k, 256m, 1g (k, m, g, t: powers of 1024).
`;
}

function daemonProgram(): Command {
  const program = new Command('paddockd')
    .description('Paddock daemon: sandboxes for AI agents behind an HTTP API (TCP and a Unix socket in the state folder).')
    .argument('[command]', 'prepare: build the base template and exit; help: show this help; none: serve')
    .helpOption('-h, --help', 'show this help and exit')
    .exitOverride()
    // Help is returned, not printed; commander's own error line is rethrown as ours.
    .configureOutput({ writeOut: () => {}, writeErr: () => {} });
  for (const spec of Object.values(daemonSettings) as SettingSpec<unknown>[]) {
    const shown = spec.shownDefault ?? spec.default;
    const option = new Option(`--${spec.flag} ${spec.value}`, `${spec.help} [env ${spec.env}] (default: ${shown})`);
    // Values stay text here: readSettings parses flags and variables alike and names the one that is wrong.
    if (spec.multiple) option.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
    program.addOption(option);
  }
  return program;
}

function configFrom(settings: DaemonSettingValues): Omit<DaemonConfig, 'testWeakening'> {
  const { stateDir } = settings;
  const auditAnchorLog = join(stateDir, 'audit-anchors.log');
  if (settings.auditAnchorFile === auditAnchorLog) {
    throw new InvalidSettingError('--audit-anchor-file: that is the anchor log itself; name a file outside the state folder (another disk, a mount, a pipe)');
  }
  return {
    stateDir,
    cacheDir: settings.cacheDir,
    host: settings.host,
    port: settings.port,
    ingressDomain: settings.ingressDomain,
    socketPath: join(stateDir, 'paddockd.sock'),
    runcBinary: settings.runcBinary,
    runcRoot: join(stateDir, 'runc'),
    runscBinary: settings.runscBinary,
    runscRoot: join(stateDir, 'runsc'),
    configFile: settings.configFile,
    policiesDir: settings.policiesDir ?? join(stateDir, 'policies'),
    cgroupParent: cgroupParentFor(stateDir),
    logLevel: settings.logLevel,
    maxUploadBytes: settings.maxUploadBytes,
    maxJsonBytes: 4 * 1024 * 1024,
    maxBuildContextBytes: 96 * 1024 * 1024,
    outputLimitBytes: 1024 * 1024,
    approvalTtlMs: settings.approvalTtlMs,
    sessionTtlMs: settings.sessionTtlMs,
    dashboardDir: settings.dashboardDir === '' ? null : (settings.dashboardDir ?? defaultDashboardDir()),
    adminOwner: settings.adminOwner,
    selfApproval: settings.selfApproval,
    auditSignIntervalMs: settings.auditSignIntervalMs,
    auditAnchorLog,
    auditAnchorFile: settings.auditAnchorFile,
    overcommit: settings.overcommit,
    eventQueueBytes: 1024 * 1024,
    eventsRecheckMs: settings.eventsRecheckMs,
    metricsIntervalMs: settings.metricsIntervalMs,
    statsIntervalMs: settings.statsIntervalMs,
    writableLayer: settings.writableLayer,
    dnsServers: settings.dnsServers,
    egressAllowRanges: settings.egressAllowRanges,
    insecureRegistries: settings.insecureRegistries,
    maxImageBytes: settings.maxImageBytes,
    maxImageLayerBytes: settings.maxImageLayerBytes,
    tls: readTls(settings.tlsCert, settings.tlsKey),
    // Unset: the package managers' hosts; `none` among them: no defaults at all.
    buildAllowDomains: settings.buildAllowDomains.length ? settings.buildAllowDomains.filter((h) => h !== 'none') : defaultBuildHosts,
    e2bTemplates: { ...defaultE2bTemplates, ...Object.fromEntries(settings.e2bTemplates) },
  };
}

/**
 * The certificate and key, read and checked at start: a file that is missing,
 * not PEM, or a key that is not the certificate's stops the daemon with the
 * setting named, rather than failing every TLS handshake later.
 */
function readTls(certFile: string | undefined, keyFile: string | undefined): DaemonTls | undefined {
  if (!certFile && !keyFile) return undefined;
  if (!certFile) throw new InvalidSettingError('--tls-key: needs --tls-cert (PADDOCK_TLS_CERT) too');
  if (!keyFile) throw new InvalidSettingError('--tls-cert: needs --tls-key (PADDOCK_TLS_KEY) too');
  const cert = readSettingFile(certFile, '--tls-cert');
  const key = readSettingFile(keyFile, '--tls-key');
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch {
    throw new InvalidSettingError(`--tls-cert: ${certFile} is not a PEM certificate`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new InvalidSettingError(`--tls-key: ${keyFile} is not a PEM private key (an encrypted key is not supported)`);
  }
  if (!x509.checkPrivateKey(privateKey)) throw new InvalidSettingError(`--tls-key: ${keyFile} is not the key of the certificate in ${certFile}`);
  return { cert, key };
}

function readSettingFile(file: string, flag: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new InvalidSettingError(`${flag}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/**
 * The dashboard's build beside this package: packages/daemon/{src,dist}/config
 * → packages/dashboard/dist, the same from sources (fast tests) and from dist.
 */
function defaultDashboardDir(): string {
  return fileURLToPath(new URL('../../../dashboard/dist', import.meta.url));
}

/** Each state folder gets its own cgroup parent, so daemons never share one. */
export function cgroupParentFor(stateDir: string): string {
  return `paddock-${createHash('sha256').update(stateDir).digest('hex').slice(0, 8)}`;
}
