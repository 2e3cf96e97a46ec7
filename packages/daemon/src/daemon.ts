import { chmod, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { paddockVersion } from '@paddock/core';
import {
  agentBinDir,
  CgroupProbe,
  egressSocketName,
  ensureBaseLayer,
  gvisorRuntimeFlags,
  NetnsNetwork,
  OciRuntime,
  readBaseLayerInfo,
  runcRunFlags,
  SandboxEngine,
  stageAgentBinaries,
  unstageAgentBinaries,
} from '@paddock/engine';
import { type Logger, pino } from 'pino';
import { ApprovalService } from './approvals/approval-service.js';
import { AuditAnchors } from './audit/audit-anchors.js';
import { AuditHeads, loadOrCreateSigningKey } from './audit/audit-heads.js';
import { SqliteAuditLog } from './audit/audit-log.js';
import { loadOrCreateToken, TokenAuthenticator } from './auth/token-auth.js';
import { ProcessManager } from './commands/process-manager.js';
import type { DaemonConfig } from './config/daemon-config.js';
import { FileService } from './files/file-service.js';
import { GatewayService } from './gateway/gateway-service.js';
import { GatewayStore } from './gateway/gateway-store.js';
import { createApp, nodeRequestListener } from './http/app.js';
import { makeGovern } from './http/governed.js';
import type { Services } from './http/services.js';
import { AddressGuard } from './network/address-guard.js';
import { ConnectionLog } from './network/connection-log.js';
import { DnsResponder } from './network/dns-responder.js';
import { EgressNetwork } from './network/egress-network.js';
import { EgressProxy } from './network/egress-proxy.js';
import { EgressResolver } from './network/egress-resolver.js';
import { NetworkService } from './network/network-service.js';
import { CedarAuthorizer } from './policy/cedar-authorizer.js';
import { ensurePolicyDir } from './policy/policy-set.js';
import { RoleAuthorizer } from './policy/role-authorizer.js';
import { PoolService } from './pools/pool-service.js';
import { HostCapacity, measureHost } from './sandboxes/host-capacity.js';
import { SandboxService } from './sandboxes/sandbox-service.js';
import { loadOrCreateSecretKey, SecretCipher } from './secrets/secret-cipher.js';
import { SecretStore } from './secrets/secret-store.js';
import { CheckpointService } from './snapshots/checkpoint-service.js';
import { SnapshotService } from './snapshots/snapshot-service.js';
import { openDatabase } from './store/database.js';
import { SandboxStore } from './store/sandbox-store.js';
import { lockStateDir } from './store/state-dir-lock.js';
import { TemplateStore } from './store/template-store.js';
import { TenantStore, TokenStore } from './store/tenant-store.js';
import { startTelemetry } from './telemetry/telemetry.js';
import { TemplateService } from './templates/template-service.js';
import { QuotaGuard } from './tenants/quota-guard.js';
import { TenantService } from './tenants/tenant-service.js';
import { findExecutable } from './tiers/find-executable.js';
import { loadTierPolicySettings, TierPolicy } from './tiers/tier-policy.js';

export interface RunningDaemon {
  url: string;
  socketPath: string;
  token: string;
  services: Services;
  logger: Logger;
  stop(): Promise<void>;
}

const loopbackHosts = new Set(['127.0.0.1', 'localhost', '::1']);

/** What `paddock` and tests read to find a daemon: written once it listens. */
export interface Endpoint {
  url: string;
  socket: string;
  pid: number;
  version: string;
}

/** Builds every part of the daemon from its config, reconciles, and starts listening. */
export async function startDaemon(config: DaemonConfig, logger: Logger = defaultLogger(config)): Promise<RunningDaemon> {
  await mkdir(config.stateDir, { recursive: true });
  // Before anything reads or changes the folder: a second daemon on it would
  // adopt, reconcile and kill the first one's sandboxes (probe G1).
  const lock = lockStateDir(config.stateDir);
  // Nothing of a daemon that stopped, or failed to start, stays mounted; running sandboxes keep their agent binaries.
  const agentDir = join(config.stateDir, 'agent');
  try {
    const daemon = await startLocked(config, logger, agentDir);
    return {
      ...daemon,
      async stop() {
        await daemon.stop();
        await unstageAgentBinaries(agentDir);
        lock.release();
      },
    };
  } catch (err) {
    await unstageAgentBinaries(agentDir).catch(() => {});
    lock.release();
    throw err;
  }
}

async function startLocked(config: DaemonConfig, logger: Logger, agentDir: string): Promise<RunningDaemon> {
  // Traversable but not listable: the sandboxes' user-namespace root must reach
  // its rootfs below; secrets in here (token, database) are 0600 on their own.
  await chmod(config.stateDir, 0o711);
  const sandboxesDir = join(config.stateDir, 'sandboxes');
  const layersDir = join(config.stateDir, 'layers');
  await Promise.all([
    mkdir(sandboxesDir, { recursive: true }),
    mkdir(layersDir, { recursive: true }),
    mkdir(config.runcRoot, { recursive: true }),
    mkdir(config.runscRoot, { recursive: true }),
  ]);
  // Layers hold files owned by the sandboxes' uid range (setuid ones too): no
  // host user but root may reach them. Overlay needs no path access after mounting.
  await chmod(layersDir, 0o700);
  await chmod(sandboxesDir, 0o711);
  const token = loadOrCreateToken(join(config.stateDir, 'token'));
  const db = openDatabase(join(config.stateDir, 'paddock.db'));
  const audit = new SqliteAuditLog(db);
  ensurePolicyDir(config.policiesDir);
  const policy = new CedarAuthorizer(new RoleAuthorizer(), config.policiesDir, logger);
  policy.loadOrThrow();
  const sandboxStore = new SandboxStore(db);

  const secrets = new SecretStore(db, new SecretCipher(loadOrCreateSecretKey(join(config.stateDir, 'secrets.key'))));
  const connections = new ConnectionLog(audit, logger);
  const network = new NetworkService({
    db,
    secrets,
    connections,
    caFile: (id) => join(sandboxesDir, id, 'egress-ca.json'),
    ownerOf: (id) => sandboxStore.get(id)?.owner,
  });
  const resolver = new EgressResolver({ servers: config.dnsServers });
  const guard = new AddressGuard(config.egressAllowRanges);
  const egress = new EgressProxy({ network, resolver, guard, dns: new DnsResponder(resolver, guard), authorizer: policy, connections, secrets, logger });

  // Sandboxes bind a copy of the agent binaries on a tmpfs: their mount table names no host folder.
  await stageAgentBinaries(agentBinDir(), agentDir);
  const engine = new SandboxEngine({
    sandboxesDir,
    agentBinDir: agentDir,
    runtimes: {
      container: new OciRuntime({ binary: config.runcBinary, root: config.runcRoot, runArgs: runcRunFlags, pidIsContainerInit: true }),
      ...(findExecutable(config.runscBinary)
        ? { gvisor: new OciRuntime({ binary: config.runscBinary, root: config.runscRoot, globalArgs: gvisorRuntimeFlags }) }
        : {}),
    },
    network: new EgressNetwork(new NetnsNetwork(sandboxesDir), egress, network),
    cgroups: new CgroupProbe(),
    cgroupParent: config.cgroupParent,
  });
  const templateStore = new TemplateStore(db);
  // The sandbox service needs the process manager and hears from it when a sandbox died under a command.
  let sandboxes: SandboxService | undefined;
  const processes = new ProcessManager({
    engine,
    outputLimitBytes: config.outputLimitBytes,
    logger,
    onConnectionLost: (id) => void sandboxes?.noticeIfDead(id).catch((err) => logger.error({ err, sandbox: id }, 'checking a sandbox failed')),
  });
  const tierPolicy = new TierPolicy(loadTierPolicySettings(config.configFile), engine.tiers());
  const tenantStore = new TenantStore(db);
  const tokenStore = new TokenStore(db);
  sandboxes = new SandboxService({
    engine,
    sandboxes: sandboxStore,
    templates: templateStore,
    processes,
    tierPolicy,
    quotas: new QuotaGuard(tenantStore),
    capacity: new HostCapacity(measureHost(config.stateDir), config.overcommit),
    network,
    logger,
  });
  const snapshots = new SnapshotService({ engine, sandboxes, sandboxStore, templates: templateStore, tenants: tenantStore, layersDir, logger });
  sandboxes.afterEnd = (id) => snapshots.releaseForkLayer(id);
  const checkpoints = new CheckpointService({ engine, sandboxes, sandboxStore, processes, logger });
  const pools = new PoolService({ db, sandboxes, sandboxStore, templates: templateStore, logger });
  sandboxes.claimFromPool = (owner, request) => pools.claim(owner, request);
  const files = new FileService(engine);
  const templates = new TemplateService({ templates: templateStore, sandboxes, sandboxStore, processes, files, engine, layersDir, logger });
  templates.afterChange = (name) => pools.templateChanged(name);
  const gatewayServers = new GatewayService({
    store: new GatewayStore(db),
    sandboxes,
    sandboxStore,
    processes,
    audit,
    logger,
    // What no server may be given: the daemon's state, cache and policies, and the binaries every sandbox runs.
    protectedPaths: [config.stateDir, config.cacheDir, config.policiesDir, agentBinDir()],
  });
  const telemetry = await startTelemetry(process.env, logger, () => sandboxStore.countByState());
  const stopWatchingPolicies = policy.watch();
  const approvals = new ApprovalService(db, config.approvalTtlMs, {
    mode: config.selfApproval,
    humanOwners: () => new Set([config.adminOwner, ...tokenStore.humanOwners()]),
  });
  const auditKey = loadOrCreateSigningKey(join(config.stateDir, 'audit-signing-key.pem'));
  const auditAnchors = new AuditAnchors({
    path: config.auditAnchorLog,
    key: auditKey,
    externalFile: config.auditAnchorFile,
    onAnchor: (anchor) => telemetry.exportAuditAnchor(anchor),
    logger,
  });
  const auditHeads = new AuditHeads(db, auditKey, auditAnchors, logger);
  const stopSigning = auditHeads.startSigning(config.auditSignIntervalMs);
  const services: Services = {
    sandboxes,
    snapshots,
    checkpoints,
    pools,
    processes,
    files,
    templates,
    audit,
    auditHeads,
    tenants: new TenantService(tenantStore, tokenStore),
    policy,
    approvals,
    network,
    gateway: gatewayServers,
    secrets,
    govern: makeGovern(policy, audit, approvals, telemetry),
    limits: { maxUploadBytes: config.maxUploadBytes, maxJsonBytes: config.maxJsonBytes, maxBuildContextBytes: config.maxBuildContextBytes },
  };

  registerBaseTemplate(config, templates, logger);
  await sandboxes.reconcile();
  // Adopted sandboxes keep their relay; their egress socket needs a listener again.
  for (const record of sandboxStore.live()) {
    if (network.get(record.id)?.mode !== 'proxy') continue;
    await egress
      .listen(record.id, join(engine.paths(record.id).runDir, egressSocketName), engine.paths(record.id).scratch)
      .catch((err) => logger.error({ err, sandbox: record.id }, 'egress socket not reopened'));
  }
  pools.start();
  await gatewayServers.start();
  const orphans = await templates.removeOrphanLayers();
  if (orphans.length) logger.info({ orphans }, 'removed layers no template uses');

  const origins: string[] = [];
  const {
    app,
    injectWebSocket,
    close: closeApp,
  } = createApp({
    services,
    auth: new TokenAuthenticator(token, tokenStore, config.adminOwner),
    logger,
    allowedOrigins: () => origins,
    telemetry,
    allowedHostNames: loopbackHosts.has(config.host) ? [...loopbackHosts] : undefined,
  });
  const listener = nodeRequestListener(app.fetch);
  // Clients close idle connections first (fetch's undici after 4 s): a server that
  // closes first (Node's default, 5 s) races a request being sent on one, which fails.
  const serverOptions = { keepAliveTimeout: 30_000 };
  const tcp = createServer(serverOptions, listener);
  const unix = createServer(serverOptions, listener);
  injectWebSocket(tcp);
  injectWebSocket(unix);
  await listen(tcp, () => tcp.listen(config.port, config.host));
  await rm(config.socketPath, { force: true });
  await listen(unix, () => unix.listen(config.socketPath));
  const address = tcp.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host}:${port}`;
  origins.push(url, `http://localhost:${port}`);
  const endpoint: Endpoint = { url, socket: config.socketPath, pid: process.pid, version: paddockVersion };
  // Written whole and renamed, so readers never see half a file.
  const endpointFile = join(config.stateDir, 'endpoint.json');
  await writeFile(`${endpointFile}.tmp`, JSON.stringify(endpoint), { mode: 0o600 });
  await rename(`${endpointFile}.tmp`, endpointFile);
  logger.info({ url, socket: config.socketPath }, 'paddockd listening');

  return {
    url,
    socketPath: config.socketPath,
    token,
    services,
    logger,
    async stop() {
      // MCP sessions first: their tool calls' clean-up (a run_code sandbox to kill) still reaches the API.
      await closeApp();
      // A gateway server's sandbox is no use to the next start (its stdin was this process's): it goes now.
      await gatewayServers.stop();
      pools.stop();
      sandboxes.stopTimers();
      await Promise.all([close(tcp), close(unix), egress.closeAll()]);
      await rm(join(config.stateDir, 'endpoint.json'), { force: true });
      if (sandboxStore.live().length === 0) engine.releaseCgroupParent();
      stopSigning();
      stopWatchingPolicies();
      // The last records get a signed head before the daemon goes.
      auditHeads.signHead();
      await auditAnchors.flush();
      await telemetry.shutdown();
      db.close();
    },
  };
}

/**
 * Log lines written off the event loop: a write(2) per line costs ~0.15 ms
 * here (a VM's syscalls are dear), on every API request. pino flushes what is
 * pending when the process exits.
 */
function defaultLogger(config: DaemonConfig): Logger {
  return pino({ level: config.logLevel }, pino.destination({ dest: 1, sync: false }));
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

function listen(server: Server, start: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      resolve();
    });
    start();
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections?.();
  });
}
