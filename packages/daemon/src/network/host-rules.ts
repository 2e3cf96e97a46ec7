import { canonicalHost, parseHostRule } from '@paddock/core';

interface HostRule {
  text: string;
  host: string;
  /** *.example.com matches every name below example.com, not example.com itself. */
  suffix?: string;
  port?: number;
}

export type RuleDecision = { allowed: true } | { allowed: false; reason: string };

/** Lowercase, no trailing dot, no IPv6 brackets: how hosts are compared. */
export function normalizeHost(host: string): string {
  const lower = host.trim().toLowerCase().replace(/\.$/, '');
  return canonicalHost(lower.startsWith('[') && lower.endsWith(']') ? lower.slice(1, -1) : lower);
}

function compile(text: string): HostRule | undefined {
  const parsed = parseHostRule(text);
  if (!parsed) return undefined;
  const suffix = parsed.host.startsWith('*.') ? parsed.host.slice(1) : undefined;
  return { text, host: parsed.host, suffix, port: parsed.port };
}

function hostMatches(rule: HostRule, host: string): boolean {
  return rule.suffix ? host.endsWith(rule.suffix) && host.length > rule.suffix.length : host === rule.host;
}

function ruleMatches(rule: HostRule, host: string, port: number | undefined): boolean {
  return hostMatches(rule, host) && (rule.port === undefined || port === undefined || rule.port === port);
}

/**
 * A sandbox's allow and deny rules, compiled once per change. Deny wins; a
 * host no allow rule names is refused.
 */
export class HostRules {
  private readonly allowRules: HostRule[];
  private readonly denyRules: HostRule[];

  constructor(allow: string[], deny: string[]) {
    this.allowRules = allow.map(compile).filter((r): r is HostRule => !!r);
    this.denyRules = deny.map(compile).filter((r): r is HostRule => !!r);
  }

  decide(rawHost: string, port: number): RuleDecision {
    const host = normalizeHost(rawHost);
    const denied = this.denyRules.find((r) => ruleMatches(r, host, port));
    if (denied) return { allowed: false, reason: `denied by rule ${denied.text}` };
    if (this.allowRules.some((r) => ruleMatches(r, host, port))) return { allowed: true };
    return { allowed: false, reason: `${host}${port ? `:${port}` : ''} is not in the sandbox's allowlist` };
  }

  /** For DNS: may the name be reached on some port? */
  allowsName(rawHost: string): boolean {
    const host = normalizeHost(rawHost);
    if (this.denyRules.some((r) => r.port === undefined && hostMatches(r, host))) return false;
    return this.allowRules.some((r) => hostMatches(r, host));
  }
}

/** Whether host:port is named by any of the patterns (a secret's hosts). */
export function hostInPatterns(host: string, port: number, patterns: string[]): boolean {
  return new HostRules(patterns, []).decide(host, port).allowed;
}
