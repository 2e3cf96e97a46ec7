import { readFileSync } from 'node:fs';
import { BadRequestError, PolicyDeniedError, type Tier, type TierRequest, TierSchema } from '@paddock/core';
import { tierStrength } from '@paddock/engine';
import { z } from 'zod';

const TierRuleSchema = z
  .object({
    template: z.string().min(1).optional().describe('template name; "*" matches any run of characters'),
    labels: z.record(z.string(), z.string()).optional().describe('every label listed must be on the sandbox'),
    minimum: TierSchema,
  })
  .strict()
  .refine((r) => r.template !== undefined || r.labels !== undefined, 'a rule names a template, labels, or both');

/** The operator's tier settings: a floor for every sandbox and stricter floors by template or label. */
export const TierPolicySchema = z
  .object({
    minimum: TierSchema.default('container'),
    rules: z.array(TierRuleSchema).default([]),
  })
  .strict();
export type TierPolicySettings = z.infer<typeof TierPolicySchema>;

export interface TierChoice {
  tier: Tier;
  /** Why the floor is what it is, for errors and the audit log. */
  minimum: Tier;
}

/**
 * Picks a sandbox's isolation tier. A request asks for a tier or for `auto`;
 * it never gets less than the operator's floor for its template and labels:
 * `auto` gets the floor, a weaker explicit tier is refused.
 */
export class TierPolicy {
  private readonly rules: Array<{ template?: RegExp; labels?: Record<string, string>; minimum: Tier }>;

  constructor(
    private readonly settings: TierPolicySettings,
    private readonly available: readonly Tier[],
  ) {
    this.rules = settings.rules.map((r) => ({ template: r.template ? globToRegExp(r.template) : undefined, labels: r.labels, minimum: r.minimum }));
  }

  choose(request: { tier?: TierRequest; template: string; labels: Record<string, string> }): TierChoice {
    const minimum = this.minimumFor(request.template, request.labels);
    const asked = request.tier ?? 'auto';
    const tier = asked === 'auto' ? minimum : asked;
    if (tierStrength[tier] < tierStrength[minimum]) {
      throw new PolicyDeniedError(`template ${request.template} with these labels needs the ${minimum} tier or stronger; asked for ${tier}`, {
        tier,
        minimumTier: minimum,
      });
    }
    if (!this.available.includes(tier)) {
      throw new BadRequestError(`the ${tier} tier is not available on this host (available: ${this.available.join(', ')})`, { tier }, 'tier_unavailable');
    }
    return { tier, minimum };
  }

  private minimumFor(template: string, labels: Record<string, string>): Tier {
    let minimum = this.settings.minimum;
    for (const rule of this.rules) {
      if (rule.template && !rule.template.test(template)) continue;
      if (rule.labels && !Object.entries(rule.labels).every(([k, v]) => labels[k] === v)) continue;
      if (tierStrength[rule.minimum] > tierStrength[minimum]) minimum = rule.minimum;
    }
    return minimum;
  }
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`);
}

/** Reads the tier settings from the daemon's config file (JSON, key `tiers`); none means the defaults. */
export function loadTierPolicySettings(configFile: string | undefined): TierPolicySettings {
  if (!configFile) return TierPolicySchema.parse({});
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(configFile, 'utf8'));
  } catch (err) {
    throw new BadRequestError(`cannot read config file ${configFile}: ${(err as Error).message}`, {}, 'invalid_config');
  }
  const parsed = z
    .object({ tiers: TierPolicySchema.default({ minimum: 'container', rules: [] }) })
    .passthrough()
    .safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new BadRequestError(`config file ${configFile}: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`, {}, 'invalid_config');
  }
  return parsed.data.tiers;
}
