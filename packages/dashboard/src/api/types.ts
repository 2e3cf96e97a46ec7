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
  PolicyStatus,
  PolicyTestResult,
  PoolInfo,
  ProcessInfo,
  Role,
  SandboxNetworkInfo,
  Session,
  TemplateInfo,
  TenantInfo,
  TokenInfo,
  VolumeInfo,
} from '@paddock/core';

import type { SandboxInfo as CoreSandboxInfo } from '@paddock/core';

export type SandboxControl = { mode: 'agent' } | { mode: 'human'; by: string; since: string; sessionId: string; pid: number };

/** A sandbox as the dashboard reads it: `control` arrives with takeover (absent on a daemon without it). */
export type SandboxInfo = CoreSandboxInfo & { control?: SandboxControl };

export interface MetricsSample {
  at: string;
  cpuPercent: number;
  cpuUsageUsec: number;
  memoryBytes: number;
  memoryLimitBytes: number | null;
  pids: number;
  pidsLimit: number | null;
  netRxBytes: number;
  netTxBytes: number;
  egressAllowed: number;
  egressRefused: number;
}

export interface SandboxMetrics {
  sandboxId: string;
  current: MetricsSample | null;
  history: MetricsSample[];
}

export interface StatsSample {
  at: string;
  sandboxes: { running: number; paused: number };
  execMs: { p50: number; p95: number } | null;
  pool: { hits: number; misses: number };
  decisions: { allow: number; deny: number; ask: number };
  egressRefused: number;
}

export interface Recording {
  sessionId: string;
  by: string;
  startedAt: string;
  endedAt: string | null;
  bytes: number;
  sha256: string;
}

/** Events of GET /v1/events, by their SSE event name. */
export interface LiveEvents {
  sandbox: { kind: 'created' | 'updated' | 'ended'; sandbox: SandboxInfo };
  metrics: { samples: Record<string, MetricsSample> };
  approval: { kind: 'created' | 'decided'; approval: import('@paddock/core').ApprovalInfo };
  audit: { record: import('@paddock/core').AuditEntry };
  stats: StatsSample;
}
export type LiveTopic = keyof LiveEvents;
