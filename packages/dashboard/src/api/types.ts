// The shapes the dashboard reads, from @paddock/core's zod schemas as
// type-only imports: erased by the build, so no zod in the bundle.
export type {
  ApprovalInfo,
  AuditEntry,
  AuditVerification,
  CheckpointInfo,
  CommandRiskInfo,
  ConnectionInfo,
  FileEntry,
  GatewayServerInfo,
  HandbackResponse,
  MetricsSample,
  PolicyStatus,
  PolicyTestResult,
  PoolInfo,
  ProcessInfo,
  Recording,
  RecordingFrames,
  Role,
  SandboxControl,
  SandboxInfo,
  SandboxMetrics,
  SandboxNetworkInfo,
  Session,
  StatsSample,
  TakeoverResponse,
  TemplateInfo,
  TenantInfo,
  TokenInfo,
  VolumeInfo,
} from '@paddock/core';

import type { LiveEventMessage } from '@paddock/core';

/** Events of GET /v1/events, by their SSE event name ('ready' aside). */
export type LiveEvents = { [M in Exclude<LiveEventMessage, { event: 'ready' }> as M['event']]: M['data'] };
export type LiveTopic = keyof LiveEvents;
