import { BadRequestError } from '../errors/paddock-error.js';
import { logicalLines } from './logical-lines.js';

export type PaddockfileStep =
  | { kind: 'RUN'; argv: string[]; text: string; line: number }
  | { kind: 'COPY'; sources: string[]; dest: string; line: number }
  | { kind: 'ENV'; values: Record<string, string>; line: number }
  | { kind: 'WORKDIR'; path: string; line: number }
  | { kind: 'USER'; user: string; line: number };

export interface Paddockfile {
  from: string | null;
  steps: PaddockfileStep[];
}

/**
 * Parses the Paddockfile subset of Dockerfile syntax: FROM, RUN, COPY, ENV,
 * WORKDIR, USER; `#` comments and backslash line continuations. RUN takes the
 * shell form or a JSON array (exec form).
 */
export function parsePaddockfile(text: string): Paddockfile {
  const result: Paddockfile = { from: null, steps: [] };
  for (const { line, content } of logicalLines(text)) {
    const match = /^([A-Za-z]+)\s+([\s\S]*)$/.exec(content);
    if (!match) fail(line, `expected an instruction, got "${content}"`);
    const keyword = (match?.[1] ?? '').toUpperCase();
    const args = (match?.[2] ?? '').trim();
    if (keyword === 'FROM') {
      if (result.from !== null || result.steps.length > 0) fail(line, 'FROM must come first and only once');
      result.from = args;
    } else if (keyword === 'RUN') {
      result.steps.push({ kind: 'RUN', argv: runArgv(args, line), text: args, line });
    } else if (keyword === 'COPY') {
      const parts = args.split(/\s+/).filter((p) => !p.startsWith('--'));
      if (parts.length < 2) fail(line, 'COPY needs at least one source and a destination');
      result.steps.push({ kind: 'COPY', sources: parts.slice(0, -1), dest: parts.at(-1) as string, line });
    } else if (keyword === 'ENV') {
      result.steps.push({ kind: 'ENV', values: envValues(args, line), line });
    } else if (keyword === 'WORKDIR') {
      result.steps.push({ kind: 'WORKDIR', path: args, line });
    } else if (keyword === 'USER') {
      result.steps.push({ kind: 'USER', user: args, line });
    } else {
      fail(line, `unsupported instruction ${keyword} (supported: FROM, RUN, COPY, ENV, WORKDIR, USER)`);
    }
  }
  return result;
}

/** Shell form runs under /bin/sh -c; exec form (a JSON array) runs as given. */
function runArgv(args: string, line: number): string[] {
  if (!args.startsWith('[')) return ['/bin/sh', '-c', args];
  let argv: unknown;
  try {
    argv = JSON.parse(args);
  } catch {
    fail(line, 'RUN exec form must be a JSON array of strings');
  }
  if (!Array.isArray(argv) || argv.some((a) => typeof a !== 'string')) fail(line, 'RUN exec form must be a JSON array of strings');
  if ((argv as string[]).length === 0) fail(line, 'RUN exec form needs a program');
  return argv as string[];
}

function envValues(args: string, line: number): Record<string, string> {
  const values: Record<string, string> = {};
  if (!args.includes('=')) {
    const [key, ...rest] = args.split(/\s+/);
    if (!key || rest.length === 0) fail(line, 'ENV needs KEY=value or KEY value');
    values[key as string] = rest.join(' ');
    return values;
  }
  for (const m of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
    const raw = m[2] ?? '';
    values[m[1] as string] = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
  }
  if (Object.keys(values).length === 0) fail(line, 'ENV needs KEY=value');
  return values;
}

function fail(line: number, message: string): never {
  throw new BadRequestError(`Paddockfile line ${line}: ${message}`, { line }, 'invalid_paddockfile');
}
