import { type CheckReport, paddockVersion, type Tier } from '@paddock/core';
import type { DaemonConfig } from '../config/daemon-config.js';
import type { CedarAuthorizer } from '../policy/cedar-authorizer.js';
import { configWarnings } from './config-warnings.js';
import { hostFacts } from './host-facts.js';
import { analysePolicies, refusableByPolicy } from './policy-analysis.js';

export interface CheckReportDeps {
  config: DaemonConfig;
  policy: CedarAuthorizer;
  tiers: readonly Tier[];
  telemetryEnabled: boolean;
  /** The API's URL, known once it listens. */
  listening: { url: string };
}

/** The daemon's half of `paddock check`: host, settings, policies (the probes run from the client). */
export async function checkReport(deps: CheckReportDeps, tenant: string, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<CheckReport> {
  const [host, policies] = await Promise.all([
    hostFacts({ config: deps.config, tiers: deps.tiers, ...options }),
    analysePolicies(deps.policy, tenant, deps.config.selfApproval),
  ]);
  const config = configWarnings({
    config: deps.config,
    telemetryEnabled: deps.telemetryEnabled,
    publicLinksRefusable: refusableByPolicy(deps.policy, 'sandbox.port.expose'),
    listeningUrl: deps.listening.url,
  });
  return { version: paddockVersion, checkedAt: new Date().toISOString(), host, config, policies };
}
