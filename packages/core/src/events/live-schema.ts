import { z } from 'zod';
import type { ApprovalInfo } from '../approvals/approval-schema.js';
import type { AuditEntry } from '../audit/audit-schema.js';
import type { SandboxInfo } from '../sandboxes/sandbox-schema.js';

/** One reading of a sandbox's cgroup and egress counters. Limits are null when unlimited. */
export const MetricsSampleSchema = z.object({
  at: z.string().describe('ISO time of the reading'),
  cpuPercent: z.number().describe('CPU used since the previous reading, in percent of one core (200 = two cores busy)'),
  cpuUsageUsec: z.number().describe('CPU time used since the sandbox started, in microseconds'),
  memoryBytes: z.number(),
  memoryLimitBytes: z.number().nullable(),
  pids: z.number(),
  pidsLimit: z.number().nullable(),
  netRxBytes: z.number().describe('bytes received through the egress proxy (closed connections)'),
  netTxBytes: z.number().describe('bytes sent through the egress proxy (closed connections)'),
  egressAllowed: z.number().describe('connections the egress proxy let through'),
  egressRefused: z.number().describe('connections the egress proxy refused'),
});
export type MetricsSample = z.infer<typeof MetricsSampleSchema>;

export const SandboxMetricsSchema = z.object({
  sandboxId: z.string(),
  current: MetricsSampleSchema.nullable(),
  history: z.array(MetricsSampleSchema).describe('oldest first; at most 150 readings'),
});
export type SandboxMetrics = z.infer<typeof SandboxMetricsSchema>;

/** Daemon-wide (or tenant-wide) counts over one 10 s interval. */
export const StatsSampleSchema = z.object({
  at: z.string(),
  sandboxes: z.object({ running: z.number(), paused: z.number() }),
  execMs: z.object({ p50: z.number(), p95: z.number() }).nullable().describe('exec latency in the interval; null when nothing ran'),
  pool: z.object({ hits: z.number(), misses: z.number() }),
  decisions: z.object({ allow: z.number(), deny: z.number(), ask: z.number() }),
  egressRefused: z.number(),
});
export type StatsSample = z.infer<typeof StatsSampleSchema>;

export const StatsHistorySchema = z.object({ history: z.array(StatsSampleSchema) });

export const eventTopics = ['sandbox', 'metrics', 'approval', 'audit', 'stats'] as const;
export const EventTopicSchema = z.enum(eventTopics);
export type EventTopic = z.infer<typeof EventTopicSchema>;

/** Topic names in `topics=sandbox,metrics`, a comma-separated list; none named means every topic the caller may read. */
export function parseTopics(list: string | undefined): EventTopic[] | undefined {
  if (list === undefined || list.trim() === '') return undefined;
  return [...new Set(list.split(',').map((t) => t.trim()))] as EventTopic[];
}

export const EventsQuerySchema = z.object({
  topics: z
    .string()
    .optional()
    .refine((s) => (parseTopics(s) ?? []).every((t) => (eventTopics as readonly string[]).includes(t)), {
      message: `unknown topic (topics: ${eventTopics.join(', ')})`,
    })
    .describe(`comma-separated: ${eventTopics.join(', ')}; none: every topic the caller may read`),
});

/** The events of GET /v1/events as a client receives them: the SSE event name, and its data parsed. */
export type LiveEventMessage =
  | { event: 'ready'; data: { topics: EventTopic[]; refused: EventTopic[] } }
  | { event: 'sandbox'; data: { kind: 'created' | 'updated' | 'ended'; sandbox: SandboxInfo } }
  | { event: 'metrics'; data: { samples: Record<string, MetricsSample> } }
  | { event: 'approval'; data: { kind: 'created' | 'decided'; approval: ApprovalInfo } }
  | { event: 'audit'; data: { record: AuditEntry } }
  | { event: 'stats'; data: StatsSample };
