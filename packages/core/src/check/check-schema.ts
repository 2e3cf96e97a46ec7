import { z } from 'zod';

/** How one finding of `paddock check` stands: ok, worth a look (warn), a weakness (fail), or a plain fact (info). */
export const checkStatuses = ['ok', 'warn', 'fail', 'info'] as const;
export type CheckStatus = (typeof checkStatuses)[number];

export const CheckItemSchema = z.object({
  id: z.string().describe('stable id of the finding, e.g. host.cgroup-v2, config.listen-tls, policy.unrefusable'),
  title: z.string(),
  status: z.enum(checkStatuses),
  detail: z.string().describe('what was found'),
  advice: z.string().optional().describe('what to do about it, when it is not ok'),
});
export type CheckItem = z.infer<typeof CheckItemSchema>;

/** The daemon's half of the report: what it reads on its host, in its settings and in its policies. */
export const CheckReportSchema = z.object({
  version: z.string().describe('the daemon’s version'),
  checkedAt: z.string().describe('ISO time'),
  host: z.array(CheckItemSchema),
  config: z.array(CheckItemSchema),
  policies: z.array(CheckItemSchema),
});
export type CheckReport = z.infer<typeof CheckReportSchema>;

/** The classes of in-sandbox attacks `paddock check --probes` runs. */
export const probeClasses = ['escape', 'egress', 'secrets', 'files', 'exhaustion'] as const;
export type ProbeClass = (typeof probeClasses)[number];

/** held: the attack failed; broken: it succeeded; not-applicable: it cannot be tried here (evidence says why). */
export const probeStatuses = ['held', 'broken', 'not-applicable'] as const;
export type ProbeStatus = (typeof probeStatuses)[number];

export const ProbeResultSchema = z.object({
  id: z.string().describe('the probe’s id in docs/security-probes.md, e.g. A7'),
  title: z.string(),
  class: z.enum(probeClasses),
  tier: z.string(),
  status: z.enum(probeStatuses),
  evidence: z.string().describe('what the attack saw'),
  durationMs: z.number(),
});
export type ProbeResult = z.infer<typeof ProbeResultSchema>;

export const ProbeSummarySchema = z.object({
  tiers: z.array(z.string()),
  results: z.array(ProbeResultSchema),
  attempted: z.number().describe('probes run (held or broken; not the not-applicable ones)'),
  broken: z.number(),
  brokenShare: z.number().describe('broken / attempted, 0 when none ran: the share of attacks that succeeded'),
  durationMs: z.number(),
});
export type ProbeSummary = z.infer<typeof ProbeSummarySchema>;

/** What `paddock check --json` prints: the daemon's report, the probes when asked for, and whether all held. */
export const CheckOutputSchema = CheckReportSchema.extend({
  probes: ProbeSummarySchema.optional(),
  ok: z.boolean().describe('false when any finding is fail or any probe broken (the exit code is then 1)'),
});
export type CheckOutput = z.infer<typeof CheckOutputSchema>;
