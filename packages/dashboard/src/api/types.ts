// The shapes the dashboard reads. Those the API already has come from
// @paddock/core's zod schemas as type-only imports (erased by the build, so
// no zod in the bundle); the rest are issue 20's contract, spelt here until
// core carries them.
export type {
  ApprovalInfo,
  AuditEntry,
  AuditVerification,
  CheckpointInfo,
  CommandRiskInfo,
  ConnectionInfo,
  FileEntry,
  GatewayServerInfo,
  MetricsSample,
  PolicyStatus,
  PolicyTestResult,
  PoolInfo,
  ProcessInfo,
  Role,
  SandboxMetrics,
  SandboxNetworkInfo,
  Session,
  StatsSample,
  TemplateInfo,
  TenantInfo,
  TokenInfo,
  VolumeInfo,
} from '@paddock/core';

import type { SandboxInfo as CoreSandboxInfo, LiveEventMessage } from '@paddock/core';

export type SandboxControl = { mode: 'agent' } | { mode: 'human'; by: string; since: string; sessionId: string; pid: number };

/** A sandbox as the dashboard reads it: `control` arrives with takeover (absent on a daemon without it). */
export type SandboxInfo = CoreSandboxInfo & { control?: SandboxControl };

export interface Recording {
  sessionId: string;
  by: string;
  startedAt: string;
  endedAt: string | null;
  bytes: number;
  sha256: string;
}

/** Events of GET /v1/events, by their SSE event name ('ready' aside). */
export type LiveEvents = { [M in Exclude<LiveEventMessage, { event: 'ready' }> as M['event']]: M['data'] };
export type LiveTopic = keyof LiveEvents;
