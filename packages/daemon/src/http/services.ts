import type { CheckReport } from '@paddock/core';
import type { ApprovalService } from '../approvals/approval-service.js';
import type { AuditHeads } from '../audit/audit-heads.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { TokenScopeGuard } from '../auth/token-scope-guard.js';
import type { CodeService } from '../code/code-service.js';
import type { ProcessManager } from '../commands/process-manager.js';
import type { DesktopService } from '../desktop/desktop-service.js';
import type { EventStreams } from '../events/event-streams.js';
import type { FileService } from '../files/file-service.js';
import type { GatewayService } from '../gateway/gateway-service.js';
import type { ImageService } from '../images/image-service.js';
import type { RegistryLogins } from '../images/registry-logins.js';
import type { PortService } from '../ingress/port-service.js';
import type { MetricsSampler } from '../metrics/metrics-sampler.js';
import type { StatsRecorder } from '../metrics/stats-recorder.js';
import type { NetworkService } from '../network/network-service.js';
import type { CedarAuthorizer } from '../policy/cedar-authorizer.js';
import type { PoolService } from '../pools/pool-service.js';
import type { SandboxService } from '../sandboxes/sandbox-service.js';
import type { SecretStore } from '../secrets/secret-store.js';
import type { CheckpointService } from '../snapshots/checkpoint-service.js';
import type { SnapshotService } from '../snapshots/snapshot-service.js';
import type { TakeoverService } from '../takeover/takeover-service.js';
import type { BuiltInTemplates } from '../templates/built-in-templates.js';
import type { TemplateService } from '../templates/template-service.js';
import type { TenantService } from '../tenants/tenant-service.js';
import type { VolumeService } from '../volumes/volume-service.js';
import type { Govern, GovernAs } from './governed.js';

/** Everything the HTTP layer needs, passed in (no module singletons). */
export interface Services {
  sandboxes: SandboxService;
  snapshots: SnapshotService;
  checkpoints: CheckpointService;
  pools: PoolService;
  processes: ProcessManager;
  code: CodeService;
  /** Builds a template the daemon carries (code-interpreter, desktop) when a sandbox first asks for it. */
  builtInTemplates: BuiltInTemplates;
  /** Desktop sandboxes' screens, input and browsers. */
  desktop: DesktopService;
  files: FileService;
  volumes: VolumeService;
  templates: TemplateService;
  images: ImageService;
  registries: RegistryLogins;
  audit: AuditLog;
  auditHeads: AuditHeads;
  tenants: TenantService;
  policy: CedarAuthorizer;
  approvals: ApprovalService;
  network: NetworkService;
  ports: PortService;
  gateway: GatewayService;
  secrets: SecretStore;
  /** People taking sandboxes over from their agents, and the recordings of their terminals. */
  takeovers: TakeoverService;
  govern: Govern;
  /** The same, for a caller that is not a route's request (a tool call of an MCP session). */
  governAs: GovernAs;
  /** The daemon's half of `paddock check` (host facts, settings, policies), for a caller of this tenant. */
  check: (tenant: string, options?: { signal?: AbortSignal }) => Promise<CheckReport>;
  /** Capability tokens' scopes: govern applies them; lists show only what a scope reaches. */
  scopes: TokenScopeGuard;
  /** Open GET /v1/events streams, fed by the daemon's one event bus. */
  events: EventStreams;
  /** Running sandboxes' cgroup readings. */
  metrics: MetricsSampler;
  /** The daemon's statistics, per tenant and in all. */
  stats: StatsRecorder;
  limits: { maxUploadBytes: number; maxJsonBytes: number; maxBuildContextBytes: number; maxImageBytes: number };
}
