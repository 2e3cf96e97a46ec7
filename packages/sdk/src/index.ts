export type {
  ApprovalInfo,
  ApprovalState,
  AuditAnchorCheck,
  AuditEntry,
  AuditVerification,
  CheckItem,
  CheckOutput,
  CheckpointInfo,
  CheckReport,
  CheckStatus,
  CodeContext,
  CodeContextCreate,
  CodeError,
  CodeLanguage,
  CodeResult,
  CodeRunEvent,
  CodeRunResult,
  CommandResult,
  ConnectionInfo,
  EventTopic,
  FileEntry,
  GatewayManifestInput,
  GatewayServerInfo,
  GatewayToolInfo,
  GatewayToolResult,
  LiveEventMessage,
  MetricsSample,
  NetworkUpdate,
  PoolInfo,
  PoolSet,
  PortLinkCreated,
  PortLinkInfo,
  PortList,
  PortUrls,
  ProbeClass,
  ProbeResult,
  ProbeStatus,
  ProbeSummary,
  ProcessInfo,
  Quotas,
  RegistryLoginInfo,
  Role,
  SandboxInfo,
  SandboxMetrics,
  SandboxNetworkInfo,
  SandboxNetworkInput,
  SandboxVolume,
  SecretInfo,
  StatsSample,
  TemplateBuildEvent,
  TemplateInfo,
  TenantCreate,
  TenantInfo,
  TenantUpdate,
  TokenCreate,
  TokenCreated,
  TokenInfo,
  TokenScope,
  VolumeInfo,
} from '@paddock/core';
export {
  ApprovalDeniedError,
  ApprovalRequiredError,
  BadRequestError,
  CommandExitError,
  CommandTimeoutError,
  ConflictError,
  ConnectionLostError,
  errorCodes,
  FileError,
  ForbiddenHostError,
  ForbiddenOriginError,
  HostCapacityError,
  NotFoundError,
  PaddockError,
  type PaddockErrorCode,
  PayloadTooLargeError,
  PolicyDeniedError,
  ProcessNotFoundError,
  QuotaExceededError,
  RuntimeError,
  SandboxExitedError,
  SandboxNotFoundError,
  TemplateNotFoundError,
  TimeoutError,
  UnauthorizedError,
  UnavailableError,
  ValidationError,
} from '@paddock/core/client';
export { ApiClient, type ConnectionOptions, type RequestOptions } from './api-client.js';
export { type ApiCall, type ApiRoute, apiCall, apiRoutes } from './api-routes.js';
export type { ApprovalOptions } from './approval-options.js';
export { type ApprovalGetOptions, type ApprovalListOptions, Approvals } from './approvals.js';
export { type AttachCallbacks, AttachedProcess } from './attach.js';
export { Audit, type AuditFollowOptions, type AuditListOptions, type AuditRange, type AuditVerifyOptions } from './audit.js';
export { Code, type Execution, type RunCodeOptions } from './code.js';
export { type Command, CommandHandle, type CommandOptions, Commands, type StartOptions } from './commands.js';
export { Browser, Desktop, type MouseButton } from './desktop.js';
export { Events, type EventsSubscribeOptions, Stats } from './events.js';
export { type FileData, type FileOptions, Files } from './files.js';
export { Gateway, type GatewayServerSpec } from './gateway.js';
export { Network } from './network.js';
export {
  type CommandRisk,
  Policies,
  type PolicyCheckResult,
  type PolicyInfo,
  type PolicyProblem,
  type PolicyStatus,
  type PolicyTestRequest,
  type PolicyTestResult,
} from './policies.js';
export { Pools } from './pools.js';
export type { PortForward, PortForwardOptions } from './port-forward.js';
export { type ExposeOptions, Ports } from './ports.js';
export { Pty, PtyHandle, type PtyOptions } from './pty.js';
export { Recordings } from './recordings.js';
export { Registries } from './registries.js';
export { type Connection, resolveConnection } from './resolve-connection.js';
export { Sandbox, type SandboxCreateOptions, type SandboxListOptions, type ScopedTokenOptions } from './sandbox.js';
export { Secrets } from './secrets.js';
export { createLoginLink } from './sessions.js';
export { checkDeployment, collectGarbage } from './system.js';
export { type TemplateBuildOptions, type TemplateImportOptions, type TemplateProgress, Templates } from './templates.js';
export { Tenants } from './tenants.js';
export { type Principal, type TokenListOptions, Tokens, whoami } from './tokens.js';
export { type Volume, VolumeFiles, Volumes } from './volumes.js';
