import { Policies, type PolicyTestRequest, type PolicyTestResult } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { UsageError } from '../errors/cli-error.js';
import { printJson } from '../output/print-json.js';
import { printLines } from '../output/print-lines.js';

interface TestFlags {
  principal: string;
  action: string;
  argv?: string;
  path?: string;
  template?: string;
  tier?: string;
  resource?: string;
  json?: boolean;
}

/** `paddock policy test`: an explanation, so it exits 0 whatever the decision. */
export async function testPolicy(args: string[], flags: TestFlags, command: Command): Promise<void> {
  const result = await Policies.test(testRequest(args, flags), connectionFor(command));
  if (flags.json) return printJson(result);
  printLines([formatDecision(result)]);
}

function testRequest(args: string[], flags: TestFlags): PolicyTestRequest {
  const cmd = args[0] === '--' ? args.slice(1) : args;
  if (cmd.length > 0 && flags.argv !== undefined) throw new UsageError('give the command either as --argv "…" or after --, not both');
  const context = Object.fromEntries(
    Object.entries({ path: flags.path, template: flags.template, tier: flags.tier }).filter(([, value]) => value !== undefined),
  );
  return {
    principal: flags.principal,
    action: flags.action,
    resource: flags.resource,
    context,
    ...(cmd.length > 0 ? { cmd } : {}),
    ...(flags.argv !== undefined ? { shell: flags.argv } : {}),
  };
}

/** e.g. `ask: this command runs code it downloads … (policy ask-… (00-defaults.cedar:9)); risk 70: fetch-execute`. */
function formatDecision(r: PolicyTestResult): string {
  const deciding = r.policies.length === 0 ? '' : ` (${r.policies.length === 1 ? 'policy' : 'policies'} ${r.policies.join(', ')})`;
  const risk = r.risk ? `; risk ${r.risk.score}${r.risk.tags.length ? `: ${r.risk.tags.join(', ')}` : ''}` : '';
  return `${r.decision}${r.reason ? `: ${r.reason}` : ''}${deciding}${risk}`;
}
