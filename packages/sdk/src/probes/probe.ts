import type { CommandResult, ProbeClass, ProbeStatus, Tier } from '@paddock/core';
import type { ConnectionOptions } from '../api-client.js';
import type { Sandbox, SandboxCreateOptions } from '../sandbox.js';

/** What a probe may use: the public SDK against one daemon, on one tier. */
export interface ProbeContext {
  tier: Tier;
  conn: ConnectionOptions;
  /** A sandbox of this tier that probes which do not spoil it share. */
  shared(): Promise<Sandbox>;
  /** A new sandbox of this tier, killed when the run ends however it ends. */
  create(options?: Omit<SandboxCreateOptions, 'url' | 'token' | 'tier'>): Promise<Sandbox>;
  signal?: AbortSignal;
}

export interface ProbeOutcome {
  status: ProbeStatus;
  /** What the attack saw: for a broken probe, each thing that got through. */
  evidence: string;
}

/**
 * One attack of the catalogue (docs/security-probes.md), run from inside
 * sandboxes through the public SDK. The security tests and `paddock check
 * --probes` run these same functions.
 */
export interface Probe {
  /** The catalogue's id (A7); a second probe of one id gets a suffix (A7.2). */
  id: string;
  title: string;
  class: ProbeClass;
  tiers: readonly Tier[];
  run(ctx: ProbeContext): Promise<ProbeOutcome>;
}

export const allTiers: readonly Tier[] = ['container', 'gvisor'];

/**
 * Collects what got through: held when nothing did. `expect` records a
 * failed expectation with what was seen, so the evidence says what broke.
 */
export class Verdict {
  private readonly broken: string[] = [];

  expect(ok: boolean, whatBroke: string): this {
    if (!ok) this.broken.push(whatBroke);
    return this;
  }

  held(evidence: string): ProbeOutcome {
    return this.broken.length ? { status: 'broken', evidence: this.broken.join('; ') } : { status: 'held', evidence };
  }
}

/** Runs a shell script inside a sandbox, as root unless a user is given; never throws on a non-zero exit. */
export function sh(sbx: Sandbox, script: string, user?: string): Promise<CommandResult> {
  return sbx.commands.runAllowingFailure(['sh', '-c', script], { user });
}

/** Runs a Python program inside a sandbox. */
export function py(sbx: Sandbox, lines: string[], user?: string): Promise<CommandResult> {
  return sbx.commands.runAllowingFailure(['python3', '-c', lines.join('\n')], { user });
}

/** Root, then the unprivileged user. */
export const bothUsers = [undefined, 'user'] as const;

export const who = (user: string | undefined) => user ?? 'root';

/** Shortens output for evidence. */
export function clip(text: string, max = 160): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
