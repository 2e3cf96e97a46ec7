import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { builtInTemplateNames } from '@paddock/core';
import { agentBinPath, dialHelperPath, ensureBaseLayer, readBaseLayerInfo, type SandboxHost, spliceHelperPath } from '@paddock/engine';
import type { Logger } from 'pino';
import { ApprovalService } from '../approvals/approval-service.js';
import { AuditAnchors } from '../audit/audit-anchors.js';
import { AuditHeads, loadOrCreateSigningKey } from '../audit/audit-heads.js';
import { SqliteAuditLog } from '../audit/audit-log.js';
import { isExpired, loadOrCreateToken } from '../auth/token-auth.js';
import { TokenScopeGuard } from '../auth/token-scope-guard.js';
import { checkReport } from '../check/check-report.js';
import { type Clock, systemClock } from '../clock/clock.js';
import { codeInterpreterDockerfile, codeInterpreterTemplate } from '../code/code-interpreter-template.js';
import { CodeService } from '../code/code-service.js';
import { ProcessManager } from '../commands/process-manager.js';
import type { DaemonConfig } from '../config/daemon-config.js';
import { isWeakened } from '../config/test-weakening.js';
import { DesktopService } from '../desktop/desktop-service.js';
import { desktopDockerfile, desktopTemplate } from '../desktop/desktop-template.js';
import { EnvdKeyRing } from '../e2b/envd/envd-signing.js';
import { EventBus } from '../events/event-bus.js';
import { EventStreams } from '../events/event-streams.js';
import { FileService } from '../files/file-service.js';
import { GatewayService } from '../gateway/gateway-service.js';
import { GatewayStore } from '../gateway/gateway-store.js';
import { makeGovern, makeGovernAs } from '../http/governed.js';
import type { Services } from '../http/services.js';
import { ImageService } from '../images/image-service.js';
import { LayerHolds } from '../images/layer-holds.js';
import { RegistryLogins } from '../images/registry-logins.js';
import { IngressAddresses } from '../ingress/ingress-address.js';
import { NamespaceDialer } from '../ingress/namespace-dialer.js';
import { PortLinkStore } from '../ingress/port-link-store.js';
import { PortService } from '../ingress/port-service.js';
import { MetricsSampler } from '../metrics/metrics-sampler.js';
import { StatsRecorder } from '../metrics/stats-recorder.js';
import { AddressGuard } from '../network/address-guard.js';
import { ConnectionLog } from '../network/connection-log.js';
import { DnsResponder } from '../network/dns-responder.js';
import { EgressProxy } from '../network/egress-proxy.js';
import { EgressResolver } from '../network/egress-resolver.js';
import { NetworkService } from '../network/network-service.js';
import { CedarAuthorizer } from '../policy/cedar-authorizer.js';
import { ensurePolicyDir } from '../policy/policy-set.js';
import { RoleAuthorizer } from '../policy/role-authorizer.js';
import { PoolService } from '../pools/pool-service.js';
import { warmFirstCommand } from '../pools/warm-first-command.js';
import { HostCapacity, measureHost } from '../sandboxes/host-capacity.js';
import { SandboxService } from '../sandboxes/sandbox-service.js';
import { loadOrCreateSecretKey, SecretCipher } from '../secrets/secret-cipher.js';
import { SecretStore } from '../secrets/secret-store.js';
import { SessionStore } from '../sessions/session-store.js';
import { CheckpointService } from '../snapshots/checkpoint-service.js';
import { SnapshotService } from '../snapshots/snapshot-service.js';
import { SpliceHelper } from '../splice/splice-helper.js';
import { BuildCacheStore } from '../store/build-cache-store.js';
import { openDatabase } from '../store/database.js';
import { SandboxStore } from '../store/sandbox-store.js';
import { TemplateStore } from '../store/template-store.js';
import { TenantStore, TokenStore } from '../store/tenant-store.js';
import { RecordingStore } from '../takeover/recording-store.js';
import { TakeoverService } from '../takeover/takeover-service.js';
import { startTelemetry, type Telemetry } from '../telemetry/telemetry.js';
import { BuiltInTemplates } from '../templates/built-in-templates.js';
import { TemplateService } from '../templates/template-service.js';
import { QuotaGuard } from '../tenants/quota-guard.js';
import { sandboxTokenName, TenantService } from '../tenants/tenant-service.js';
import { loadTierPolicySettings, TierPolicy } from '../tiers/tier-policy.js';
import { VolumeDisk } from '../volumes/volume-disk.js';
import { fillFromTemplate } from '../volumes/volume-seed.js';
import { VolumeService } from '../volumes/volume-service.js';
import { VolumeStore } from '../volumes/volume-store.js';
import { createRuntimeHost, type SandboxHostFactory } from './runtime-host.js';
import type { ShutdownSteps } from './shutdown-steps.js';

/** Debian's busybox-static: lent read-only to sandboxes that copy files for the daemon (build steps, volume seeds), whose template may have no tools. */
const hostBusybox = '/bin/busybox';

/** What the daemon's parts are given from outside its config. */
export interface ServiceDeps {
  logger: Logger;
  /** What runs the sandboxes: the real engine unless a test puts a stand-in here. */
  sandboxHost?: SandboxHostFactory;
  /** Where telemetry reads its OTEL_* settings. */
  env: NodeJS.ProcessEnv;
  /** When sandbox timeouts and gateway restarts fall due: the wall clock unless a test moves time itself. */
  clock?: Clock;
  /** The templates the daemon carries, as Dockerfiles by name: its own unless a test gives small ones. */
  builtInDockerfiles?: Readonly<Record<string, string>>;
  /** Each part registers here how it closes, as soon as it is open. */
  shutdown: ShutdownSteps;
}

/** The built daemon: the services the API serves, and the parts recover() and listen() need besides. */
export interface DaemonParts {
  services: Services;
  token: string;
  tokenStore: TokenStore;
  telemetry: Telemetry;
  engine: SandboxHost;
  sandboxStore: SandboxStore;
  egress: EgressProxy;
  /** Moves the bytes of decided connections (ingress and egress) outside Node. */
  splice: SpliceHelper;
  /** Opens ingress connections inside container sandboxes' namespaces; undefined when the host has none to enter (the fast tier's stand-in). */
  dialer: NamespaceDialer | undefined;
  /** Dashboard sessions and login codes. */
  sessionStore: SessionStore;
  /** The daemon's time (a test's ManualClock): session expiry reads it. */
  clock: Clock;
  /** The API's URL, known once it listens (a free port in tests); port URLs are made from it. */
  listening: { url: string };
  /** Sandbox access tokens E2B's signed file URLs are checked against; a sandbox's go when it ends. */
  envdKeys: EnvdKeyRing;
}

/**
 * Builds every part of the daemon from its config, in dependency order. No
 * part is changed once built: services that need each other get a function at
 * construction that reaches the other one, called only after both exist.
 */
/** The templates the daemon carries: the names clients know (core's list) and nothing else, or this does not compile. */
const carriedDockerfiles: Record<(typeof builtInTemplateNames)[number], string> = {
  [codeInterpreterTemplate]: codeInterpreterDockerfile,
  [desktopTemplate]: desktopDockerfile,
};

export async function createServices(config: DaemonConfig, deps: ServiceDeps): Promise<DaemonParts> {
  const { logger, env, shutdown } = deps;
  const clock = deps.clock ?? systemClock();
  const { sandboxesDir, layersDir, volumesDir } = await prepareStateDir(config);
  const token = loadOrCreateToken(join(config.stateDir, 'token'));
  const db = openDatabase(join(config.stateDir, 'paddock.db'));
  shutdown.add('database', () => db.close());
  const audit = new SqliteAuditLog(db);
  ensurePolicyDir(config.policiesDir);
  const policy = new CedarAuthorizer(new RoleAuthorizer(), config.policiesDir, logger);
  policy.loadOrThrow();
  // The one fan-out of live events: parts publish to it, each events stream filters what it may see.
  const bus = new EventBus(logger);
  // Nothing listens before the API does, so this never reaches the takeover service before it exists.
  const publishSandbox = (id: string, kind: 'created' | 'updated' | 'ended') => {
    if (!bus.listening) return;
    const sandbox = sandboxStore.get(id);
    if (sandbox) bus.publish({ topic: 'sandbox', kind, sandbox, control: takeovers.controlOf(id) });
  };
  const sandboxStore: SandboxStore = new SandboxStore(db, (id, kind) => {
    if (kind === 'ended') metrics.forget(id);
    publishSandbox(id, kind);
  });

  const cipher = new SecretCipher(loadOrCreateSecretKey(join(config.stateDir, 'secrets.key')));
  const secrets = new SecretStore(db, cipher);
  const registries = new RegistryLogins(db, cipher);
  const connections = new ConnectionLog(audit, logger, (entry) => entry.decision === 'deny' && stats.egressRefusal(entry.owner));
  const metrics = new MetricsSampler({
    running: () => sandboxStore.running(),
    openCounters: (id) => engine.openCounters(id),
    limits: (id) => engine.limits(id),
    egress: (id) => connections.totalsOf(id),
    bus,
    intervalMs: config.metricsIntervalMs,
  });
  const stats = new StatsRecorder({ bus, countByOwner: () => sandboxStore.countByOwner(), intervalMs: config.statsIntervalMs });
  shutdown.add('metrics', stats.start());
  audit.subscribe((record) => {
    stats.audited(record);
    if (bus.listening) bus.publish({ topic: 'audit', record });
  });
  const network = new NetworkService({
    db,
    secrets,
    connections,
    caFile: (id) => join(sandboxesDir, id, 'egress-ca.json'),
    ownerOf: (id) => sandboxStore.get(id)?.owner,
  });
  const resolver = new EgressResolver({ servers: config.dnsServers });
  const guard = new AddressGuard(config.egressAllowRanges);
  const splice = new SpliceHelper({ binary: spliceHelperPath(), logger });
  const egress = new EgressProxy({
    network,
    resolver,
    guard,
    dns: new DnsResponder(resolver, guard),
    authorizer: policy,
    connections,
    secrets,
    splice,
    logger,
  });
  shutdown.add('listeners', () => egress.closeAll());
  shutdown.add('listeners', () => splice.close());

  if (isWeakened(config.testWeakening))
    logger.error({ weakening: config.testWeakening }, 'PADDOCK_TEST_WEAKEN is set: isolation is weakened on purpose, for tests only');
  const engine = await (deps.sandboxHost ?? createRuntimeHost)({ config, sandboxesDir, egress, network, sandboxStore, shutdown });
  const namespaces = engine.namespaceSources?.();
  const dialer = namespaces ? new NamespaceDialer({ binary: dialHelperPath(), sources: namespaces, logger }) : undefined;
  if (dialer) shutdown.add('listeners', () => dialer.close());
  shutdown.add('metrics', metrics.start());
  shutdown.add('metrics', () => metrics.closeAll());
  const templateStore = new TemplateStore(db);
  const tenantStore = new TenantStore(db);
  const tokenStore = new TokenStore(db);
  const scopes = new TokenScopeGuard({ tokens: tokenStore, sandboxOf: (id) => sandboxStore.get(id) });
  // From here to the template service, no await: the hooks below name services
  // built further down, and none of them can be called before those exist.
  const volumes = new VolumeService({
    store: new VolumeStore(db),
    disk: new VolumeDisk(volumesDir),
    tenants: tenantStore,
    logger,
    fillFromTemplate: (tenant, from, root, signal) => fillFromTemplate({ sandboxes, processes, busybox: hostBusybox }, tenant, from, root, signal),
  });
  const processes = new ProcessManager({
    engine,
    outputLimitBytes: config.outputLimitBytes,
    logger,
    // The sandbox service hears when a sandbox died under a command.
    onConnectionLost: (id) => void sandboxes.noticeIfDead(id).catch((err) => logger.error({ err, sandbox: id }, 'checking a sandbox failed')),
  });
  shutdown.add('commands', () => processes.detachAll());
  const takeovers = new TakeoverService({
    processes,
    recordings: new RecordingStore(db),
    audit,
    dir: join(config.stateDir, 'recordings'),
    logger,
    // A desktop held by a person is kept as frames of its screen, a frame a second.
    screenshot: (sandbox, signal) => desktop.screenshot(sandbox, {}, signal),
    desktopTemplate,
  });
  shutdown.add('takeovers', () => takeovers.releaseAll());
  takeovers.onChange((id) => publishSandbox(id, 'updated'));
  await takeovers.closeLeftOpen();
  const envdKeys = new EnvdKeyRing();
  const sandboxes: SandboxService = new SandboxService({
    engine,
    sandboxes: sandboxStore,
    templates: templateStore,
    processes,
    tierPolicy: new TierPolicy(loadTierPolicySettings(config.configFile), engine.tiers()),
    quotas: new QuotaGuard(tenantStore),
    capacity: new HostCapacity(measureHost(config.stateDir), config.overcommit),
    network,
    volumes,
    logger,
    clock,
    afterEnd: async (id) => {
      // Tokens made for the sandbox alone (E2B's envd access tokens) end with it.
      tokenStore.revokeNamed(sandboxTokenName(id));
      envdKeys.forget(id);
      ports.sandboxEnded(id);
      code.sandboxEnded(id);
      await snapshots.releaseForkLayer(id);
    },
    claimFromPool: (owner, request) => pools.claim(owner, request),
    writableLayer: config.writableLayer,
    atomically: (work) => db.transaction(work)(),
  });
  shutdown.add('sandbox-timers', () => sandboxes.stopTimers());
  const snapshots: SnapshotService = new SnapshotService({
    engine,
    sandboxes,
    sandboxStore,
    templates: templateStore,
    tenants: tenantStore,
    layersDir,
    logger,
  });
  const checkpoints = new CheckpointService({ engine, sandboxes, logger });
  const code = new CodeService({ processes, logger });
  const pools: PoolService = new PoolService({
    db,
    sandboxes,
    sandboxStore,
    templates: templateStore,
    logger,
    counted: (owner, hit) => stats.poolClaim(owner, hit),
    // A pooled code-interpreter sandbox waits with its default Python kernel started: a claimer's first cell does not wait for it;
    // a pooled desktop with its display up and its helper running, until the sandbox's pool lifetime ends; any other has run its
    // first command (a claimer's first command costs what its later ones do).
    warm: (record) => {
      if (record.template === codeInterpreterTemplate) return code.warm(record);
      if (record.template === desktopTemplate) return desktop.warm(record, record.expiresAt ? Date.parse(record.expiresAt) - clock.now() : 60_000);
      return warmFirstCommand(engine, record, { timeoutMs: 10_000 });
    },
  });
  shutdown.add('pools', () => pools.stop());
  const files = new FileService(engine);
  const listening = { url: `http://${config.host}:${config.port}` };
  const ports = new PortService({
    links: new PortLinkStore(db),
    addresses: new IngressAddresses(config.ingressDomain, () => listening.url),
    files,
  });
  const desktop = new DesktopService({ engine, processes, addresses: ports.addresses });
  const layerHolds = new LayerHolds();
  const templates: TemplateService = new TemplateService({
    templates: templateStore,
    sandboxes,
    sandboxStore,
    processes,
    files,
    engine,
    layersDir,
    buildCache: new BuildCacheStore(db),
    buildAllowDomains: config.buildAllowDomains,
    busybox: hostBusybox,
    logger,
    afterChange: (name) => pools.templateChanged(name),
    layerHolds,
    // ImageService is made next, on this service: called only once a build runs.
    pullImage: (reference, tenant, log, signal) => images.pullLayers(reference, tenant, log, signal),
  });
  const images: ImageService = new ImageService({
    holds: layerHolds,
    templates,
    layersDir,
    insecureRegistries: config.insecureRegistries,
    maxImageBytes: config.maxImageBytes,
    maxImageLayerBytes: config.maxImageLayerBytes,
    loginFor: (tenant, host) => registries.loginFor(tenant, host),
    logger,
  });
  const gatewayServers = new GatewayService({
    store: new GatewayStore(db),
    sandboxes,
    sandboxStore,
    processes,
    audit,
    logger,
    // What no server may be given: the daemon's state, cache and policies, and the binaries every sandbox runs.
    protectedPaths: [config.stateDir, config.cacheDir, config.policiesDir, agentBinPath()],
    clock,
  });
  shutdown.add('gateway-servers', () => gatewayServers.stop());

  const telemetry = await startTelemetry(env, logger, () => sandboxStore.countByState());
  shutdown.add('telemetry', () => telemetry.shutdown());
  shutdown.add('policy-watcher', policy.watch());
  const approvals = new ApprovalService(db, config.approvalTtlMs, {
    mode: config.selfApproval,
    humanOwners: () => new Set([config.adminOwner, ...tokenStore.humanOwners()]),
  });
  approvals.subscribe((approval) => bus.publish({ topic: 'approval', kind: approval.state === 'pending' ? 'created' : 'decided', approval }));
  const events = new EventStreams(bus, { maxQueuedBytes: config.eventQueueBytes, pingMs: 15_000, recheckMs: config.eventsRecheckMs }, (principal) => {
    if (isExpired(principal)) return false;
    // The bootstrap token is in no table; every other one is, revoked or not.
    const token = tokenStore.get(principal.id);
    return token ? token.revokedAt === null : principal.id === 'admin';
  });
  shutdown.add('event-streams', () => events.closeAll());
  const auditKey = loadOrCreateSigningKey(join(config.stateDir, 'audit-signing-key.pem'));
  const auditAnchors = new AuditAnchors({
    path: config.auditAnchorLog,
    key: auditKey,
    externalFile: config.auditAnchorFile,
    onAnchor: (anchor) => telemetry.exportAuditAnchor(anchor),
    logger,
  });
  // Continues the anchors' chain from the newest head the database names, and says at once if the log falls short of it.
  const auditHeads = new AuditHeads(db, auditKey, auditAnchors, logger);
  shutdown.add('audit-head', async () => {
    auditHeads.signHead();
    await auditAnchors.flush();
  });
  shutdown.add('audit-signing', auditHeads.startSigning(config.auditSignIntervalMs));

  registerBaseTemplate(config, templates, logger);
  const governAs = makeGovernAs(policy, audit, approvals, scopes, telemetry);
  const services: Services = {
    sandboxes,
    snapshots,
    checkpoints,
    pools,
    processes,
    code,
    builtInTemplates: new BuiltInTemplates({
      templates,
      dockerfiles: deps.builtInDockerfiles ?? carriedDockerfiles,
      logger,
    }),
    desktop,
    files,
    volumes,
    templates,
    images,
    registries,
    audit,
    auditHeads,
    tenants: new TenantService(tenantStore, tokenStore),
    policy,
    approvals,
    network,
    ports,
    gateway: gatewayServers,
    secrets,
    takeovers,
    govern: makeGovern(governAs),
    governAs,
    check: (tenant, options) => checkReport({ config, policy, tiers: engine.tiers(), telemetryEnabled: telemetry.enabled, listening }, tenant, options),
    scopes,
    events,
    metrics,
    stats,
    limits: {
      maxUploadBytes: config.maxUploadBytes,
      maxJsonBytes: config.maxJsonBytes,
      maxBuildContextBytes: config.maxBuildContextBytes,
      maxImageBytes: config.maxImageBytes,
    },
  };
  return {
    services,
    token,
    tokenStore,
    sessionStore: new SessionStore(db),
    clock,
    telemetry,
    engine,
    sandboxStore,
    egress,
    splice,
    dialer,
    listening,
    envdKeys,
  };
}

/** The state folder's layout and modes; returns where sandboxes, layers and volumes live. */
async function prepareStateDir(config: DaemonConfig): Promise<{ sandboxesDir: string; layersDir: string; volumesDir: string }> {
  // Traversable but not listable: the sandboxes' user-namespace root must reach
  // its rootfs below; secrets in here (token, database) are 0600 on their own.
  await chmod(config.stateDir, 0o711);
  const sandboxesDir = join(config.stateDir, 'sandboxes');
  const layersDir = join(config.stateDir, 'layers');
  const volumesDir = join(config.stateDir, 'volumes');
  await Promise.all([
    mkdir(volumesDir, { recursive: true }),
    mkdir(sandboxesDir, { recursive: true }),
    mkdir(layersDir, { recursive: true }),
    mkdir(config.runcRoot, { recursive: true }),
    mkdir(config.runscRoot, { recursive: true }),
  ]);
  // Layers hold files owned by the sandboxes' uid range (setuid ones too): no
  // host user but root may reach them. Overlay needs no path access after mounting.
  await chmod(layersDir, 0o700);
  await chmod(sandboxesDir, 0o711);
  // Traversable but not listable, like the sandboxes' folder: gVisor's gofer reaches a volume's
  // mount point by path. The images are 0600, a mount point's root the sandbox user's 0755.
  await chmod(volumesDir, 0o711);
  return { sandboxesDir, layersDir, volumesDir };
}

/** Points `base` at the cached Debian layer, building it in the background if it is missing. */
function registerBaseTemplate(config: DaemonConfig, templates: TemplateService, logger: Logger): void {
  const info = readBaseLayerInfo(join(config.cacheDir, 'layers'));
  if (info) {
    templates.registerBase(info.dir, info.sizeBytes);
    return;
  }
  logger.warn('base template not built yet; building it now (run `make up` to see progress)');
  ensureBaseLayer({ cacheDir: join(config.cacheDir, 'layers'), onProgress: (p) => logger.info({ phase: p.phase, fraction: p.fraction }, p.message) })
    .then(() => registerBaseTemplate(config, templates, logger))
    .catch((err) => logger.error({ err }, 'building the base template failed'));
}
