import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { cedarSchema } from './cedar-schema.js';
import { defaultPolicies, defaultPolicyFile } from './default-policies.js';

export interface LoadedPolicy {
  /** file:line, unique in the set */
  id: string;
  file: string;
  line: number;
  text: string;
  effect: 'permit' | 'forbid';
  annotations: Record<string, string>;
  /** The actions its scope names ('all' when it names none), and whether nothing else narrows it (principal, resource, when/unless). */
  scope: { actions: string[] | 'all'; unconditional: boolean };
}

export interface PolicyProblem {
  file: string;
  line: number;
  message: string;
}

export interface CompiledPolicies {
  policies: LoadedPolicy[];
  problems: PolicyProblem[];
}

/** The policies folder, made with the shipped defaults when it does not exist yet. */
export function ensurePolicyDir(dir: string): void {
  if (existsSync(dir)) return;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, defaultPolicyFile), defaultPolicies, { mode: 0o600 });
}

/** Reads every *.cedar file of a folder (in name order). */
export function readPolicyDir(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) {
    if (name.endsWith('.cedar')) files[name] = readFileSync(join(dir, name), 'utf8');
  }
  return files;
}

/**
 * Parses and validates policy files against Paddock's schema. Every problem
 * names its file and line; a set with problems must not be used.
 */
export function compilePolicies(files: Record<string, string>): CompiledPolicies {
  const policies: LoadedPolicy[] = [];
  const problems: PolicyProblem[] = [];
  for (const [file, text] of Object.entries(files)) {
    const parsed = cedar.checkParsePolicySet({ staticPolicies: text });
    if (parsed.type === 'failure') {
      for (const e of parsed.errors) problems.push({ file, line: lineAt(text, e.sourceLocations?.[0]?.start), message: e.message });
      continue;
    }
    const validated = cedar.validate({ schema: cedarSchema, policies: { staticPolicies: text } });
    if (validated.type === 'failure') {
      for (const e of validated.errors) problems.push({ file, line: lineAt(text, e.sourceLocations?.[0]?.start), message: e.message });
      continue;
    }
    // One mistake is reported once, not once for every action the policy covers.
    const seen = new Set<number>();
    for (const { error } of validated.validationErrors) {
      const at = error.sourceLocations?.[0]?.start ?? -1;
      if (seen.has(at)) continue;
      seen.add(at);
      // Cedar names policies policy0, policy1 … here: the file and line say which.
      problems.push({ file, line: lineAt(text, at), message: withHelp(error.message.replace(/^for policy `[^`]+`, /, ''), error.help) });
    }
    const parts = cedar.policySetTextToParts(text);
    if (parts.type === 'failure') continue;
    let searchFrom = 0;
    for (const part of parts.policies) {
      const at = text.indexOf(part, searchFrom);
      searchFrom = at >= 0 ? at + part.length : searchFrom;
      const line = lineAt(text, at >= 0 ? at : undefined);
      const json = cedar.policyToJson(part);
      const annotations = json.type === 'success' ? ((json.json.annotations ?? {}) as Record<string, string>) : {};
      const effect = json.type === 'success' ? json.json.effect : 'forbid';
      const scope = json.type === 'success' ? scopeOf(json.json) : { actions: 'all' as const, unconditional: false };
      // file:line names a policy; a second one on the same line gets #2, so none is lost under another's id.
      const onLine = policies.filter((p) => p.file === file && p.line === line).length;
      const id = onLine ? `${file}:${line}#${onLine + 1}` : `${file}:${line}`;
      policies.push({ id, file, line, text: part, effect, annotations, scope });
    }
  }
  return { policies, problems };
}

/** What a policy's scope says, read from Cedar's JSON form of it (anything unexpected counts as naming every action, narrowed). */
function scopeOf(json: cedar.PolicyJson): LoadedPolicy['scope'] {
  const { action } = json;
  const idOf = (uid: cedar.EntityUidJson) => ('__entity' in uid ? uid.__entity.id : uid.id);
  let actions: string[] | undefined;
  if (action.op !== 'All' && 'entity' in action) actions = [idOf(action.entity)];
  else if (action.op === 'in' && 'entities' in action) actions = action.entities.map(idOf);
  const known = action.op === 'All' || actions !== undefined;
  return {
    actions: actions ?? 'all',
    unconditional: known && json.principal.op === 'All' && json.resource.op === 'All' && json.conditions.length === 0,
  };
}

/** Human-readable name of a policy: its @id, or where it is. */
export function policyName(p: LoadedPolicy): string {
  return p.annotations.id ? `${p.annotations.id} (${p.id})` : p.id;
}

function lineAt(text: string, offset: number | undefined): number {
  if (offset === undefined || offset < 0) return 1;
  return text.slice(0, offset).split('\n').length;
}

function withHelp(message: string, help: string | null): string {
  return help ? `${message} (${help})` : message;
}
