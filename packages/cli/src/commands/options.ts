import type { LimitsInput } from '@paddock/core';
import { parseDurationMs, parseSizeMiB } from '@paddock/core/client';
import { CliError } from '../output/cli-error.js';

export interface SandboxFlags {
  template?: string;
  memory?: string;
  cpus?: string;
  pids?: string;
  disk?: string;
  timeout?: string;
  env?: string[];
  label?: string[];
}

/** Turns sandbox flags into create options, failing before anything is made. */
export function sandboxOptions(flags: SandboxFlags) {
  const limits: LimitsInput = {};
  if (flags.memory !== undefined) limits.memoryMiB = parseSizeMiB(flags.memory, '--memory');
  if (flags.disk !== undefined) limits.diskMiB = parseSizeMiB(flags.disk, '--disk');
  if (flags.cpus !== undefined) limits.cpus = positiveNumber(flags.cpus, '--cpus');
  if (flags.pids !== undefined) limits.pids = Math.floor(positiveNumber(flags.pids, '--pids'));
  return {
    template: flags.template ?? 'base',
    timeoutMs: flags.timeout === undefined ? undefined : parseDurationMs(flags.timeout, '--timeout'),
    limits,
    env: pairs(flags.env, '--env'),
    metadata: pairs(flags.label, '--label'),
  };
}

export function pairs(values: string[] | undefined, flag: string): Record<string, string> | undefined {
  if (!values?.length) return undefined;
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new CliError(`${flag} expects KEY=VALUE, got "${v}"`);
    out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

export function positiveNumber(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new CliError(`${flag}: "${text}" is not a positive number`);
  return n;
}

export const collect = (value: string, previous: string[] = []) => [...previous, value];

export function requireCommand(args: string[]): string[] {
  // With options passed through, a `--` after the sandbox id arrives as an argument.
  const cmd = args[0] === '--' ? args.slice(1) : args;
  if (cmd.length === 0) throw new CliError('missing command: put it after --, e.g. paddock run -- python3 -V');
  return cmd;
}
