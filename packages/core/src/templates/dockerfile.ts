import { BadRequestError } from '../errors/paddock-error.js';
import { logicalLines } from './logical-lines.js';

/** Where a step's sources come from: the build context, or the files of an earlier stage. */
export type CopySource = { kind: 'context' } | { kind: 'stage'; stage: number };

export type DockerfileStep =
  | { kind: 'RUN'; argv: string[]; text: string; line: number }
  | { kind: 'COPY'; sources: string[]; dest: string; from: CopySource; chown?: string; line: number }
  | { kind: 'ADD'; sources: string[]; dest: string; chown?: string; line: number }
  | { kind: 'ENV'; values: Array<[string, string]>; line: number }
  | { kind: 'ARG'; name: string; value?: string; line: number }
  | { kind: 'WORKDIR'; path: string; line: number }
  | { kind: 'USER'; user: string; line: number }
  | { kind: 'LABEL'; values: Array<[string, string]>; line: number }
  | { kind: 'EXPOSE'; ports: string[]; line: number }
  | { kind: 'CMD'; argv: string[]; line: number }
  | { kind: 'ENTRYPOINT'; argv: string[]; line: number };

export interface DockerfileStage {
  /** As written: a template, `scratch`, or an earlier stage's name; variables not yet expanded. */
  from: string;
  name: string | null;
  line: number;
  steps: DockerfileStep[];
}

export interface Dockerfile {
  /** ARGs before the first FROM: they may be used in FROM lines only. */
  globalArgs: Array<{ name: string; value?: string }>;
  /** At least one; a file without FROM has one stage whose `from` is the empty string (the request's parent). */
  stages: DockerfileStage[];
}

export type BuildFileKind = 'Dockerfile' | 'Paddockfile';

// Docker instructions Paddock cannot give their meaning, and why, so the error says what to do instead.
const refused: Record<string, string> = {
  VOLUME: 'VOLUME is not supported: sandboxes have no volumes declared by their template',
  HEALTHCHECK: 'HEALTHCHECK is not supported: Paddock does not watch a template’s process',
  ONBUILD: 'ONBUILD is not supported',
  STOPSIGNAL: 'STOPSIGNAL is not supported: sandboxes are stopped by Paddock, not by a signal of the template’s choosing',
};

/**
 * Parses a Dockerfile (of which the Paddockfile is a subset): FROM (a template,
 * `scratch` or an earlier stage, `AS name`), RUN, COPY (--from, --chown), ADD
 * (--chown; a local source or an http(s) URL), ENV, ARG, WORKDIR, USER, LABEL,
 * EXPOSE, CMD, ENTRYPOINT, SHELL and MAINTAINER (a label). Everything it cannot
 * honour fails here, naming the line, before any step runs.
 */
export function parseDockerfile(text: string, kind: BuildFileKind = 'Dockerfile'): Dockerfile {
  const fail = failer(kind);
  const file: Dockerfile = { globalArgs: [], stages: [] };
  let shell = ['/bin/sh', '-c'];
  const current = (line: number): DockerfileStage => {
    if (file.stages.length === 0) file.stages.push({ from: '', name: null, line, steps: [] });
    return file.stages.at(-1) as DockerfileStage;
  };
  for (const { line, content } of logicalLines(text)) {
    const match = /^([A-Za-z]+)(?:\s+([\s\S]*))?$/.exec(content);
    if (!match) fail(line, `expected an instruction, got "${content.slice(0, 80)}"`);
    const keyword = (match?.[1] ?? '').toUpperCase();
    let args = (match?.[2] ?? '').trim();
    if (refused[keyword]) fail(line, refused[keyword] as string);
    if (/^<<-?["']?[A-Za-z_]/.test(args) || /\s<<-?["']?[A-Za-z_]\w*["']?\s*$/.test(args)) {
      fail(line, 'here-documents (<<EOF) are not supported');
    }
    if (!args && keyword !== 'CMD' && keyword !== 'ENTRYPOINT') fail(line, `${keyword} needs arguments`);
    if (keyword === 'FROM') {
      const { flags, rest } = takeFlags(args);
      if (flags.length) fail(line, `FROM ${flags[0]?.name} is not supported (images come with --from-image)`);
      const m = /^(\S+)(?:\s+[Aa][Ss]\s+([A-Za-z][A-Za-z0-9_.-]*))?$/.exec(rest);
      if (!m) fail(line, 'FROM takes a template or scratch, and optionally AS name');
      const name = m?.[2]?.toLowerCase() ?? null;
      if (name && file.stages.some((s) => s.name === name)) fail(line, `stage name ${name} is used twice`);
      if (file.stages[0]?.from === '') fail(line, 'FROM must come before the first step');
      file.stages.push({ from: m?.[1] as string, name, line, steps: [] });
      shell = ['/bin/sh', '-c'];
      continue;
    }
    if (keyword === 'ARG' && file.stages.length === 0) {
      file.globalArgs.push(argStep(args, line, fail));
      continue;
    }
    const stage = current(line);
    const step = (s: DockerfileStep) => stage.steps.push(s);
    switch (keyword) {
      case 'RUN': {
        const { flags, rest } = takeFlags(args);
        if (flags.length) fail(line, `RUN ${flags[0]?.name} is not supported`);
        args = rest;
        step({ kind: 'RUN', argv: commandArgv(args, shell, 'RUN', line, fail), text: args, line });
        break;
      }
      case 'CMD':
      case 'ENTRYPOINT':
        step({ kind: keyword, argv: args ? commandArgv(args, shell, keyword, line, fail) : [], line });
        break;
      case 'SHELL': {
        const argv = jsonArgv(args);
        if (!argv || argv.length === 0) fail(line, 'SHELL takes a JSON array, such as ["/bin/bash", "-c"]');
        shell = argv as string[];
        break;
      }
      case 'COPY':
      case 'ADD': {
        const { flags, rest } = takeFlags(args);
        let from: CopySource = { kind: 'context' };
        let chown: string | undefined;
        for (const flag of flags) {
          if (flag.name === '--chown') chown = flag.value;
          else if (flag.name === '--from' && keyword === 'COPY') from = { kind: 'stage', stage: stageIndex(file, flag.value, line, fail) };
          else fail(line, `${keyword} ${flag.name} is not supported (supported: ${keyword === 'COPY' ? '--from, ' : ''}--chown)`);
        }
        if (chown !== undefined && !/^[A-Za-z0-9_.${}-]+(?::[A-Za-z0-9_.${}-]+)?$/.test(chown)) fail(line, `--chown=${chown}: expected user[:group]`);
        const parts = jsonArgv(rest) ?? rest.split(/\s+/).filter(Boolean);
        if (parts.length < 2) fail(line, `${keyword} needs at least one source and a destination`);
        const sources = parts.slice(0, -1);
        const dest = parts.at(-1) as string;
        if (keyword === 'COPY') step({ kind: 'COPY', sources, dest, from, chown, line });
        else {
          if (sources.some(isUrl) && sources.length > 1) fail(line, 'ADD of a URL takes one URL and a destination');
          step({ kind: 'ADD', sources, dest, chown, line });
        }
        break;
      }
      case 'ENV':
        step({ kind: 'ENV', values: pairs(args, 'ENV', line, fail), line });
        break;
      case 'LABEL':
        step({ kind: 'LABEL', values: pairs(args, 'LABEL', line, fail), line });
        break;
      case 'MAINTAINER':
        step({ kind: 'LABEL', values: [['maintainer', args]], line });
        break;
      case 'ARG':
        step({ kind: 'ARG', ...argStep(args, line, fail), line });
        break;
      case 'WORKDIR':
        step({ kind: 'WORKDIR', path: args, line });
        break;
      case 'USER':
        step({ kind: 'USER', user: args, line });
        break;
      case 'EXPOSE':
        for (const port of args.split(/\s+/)) {
          if (!/^(\d{1,5}|\$\{?\w+\}?)(\/(tcp|udp))?$/i.test(port)) fail(line, `EXPOSE ${port}: expected port[/tcp|/udp]`);
        }
        step({ kind: 'EXPOSE', ports: args.split(/\s+/), line });
        break;
      default:
        fail(line, `unknown instruction ${keyword}`);
    }
  }
  if (file.stages.length === 0) fail(1, 'the file has no instructions');
  return file;
}

export function isUrl(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

/**
 * Expands $NAME, ${NAME}, ${NAME:-default} and ${NAME:+alternative} as Docker
 * does in COPY, ADD, ENV, WORKDIR, USER, LABEL, EXPOSE and FROM; `\$` is a
 * literal dollar. An unset name expands to nothing.
 */
export function expandVariables(text: string, vars: Record<string, string>): string {
  return text.replace(/\\\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, braced, op, word, bare) => {
    if (whole === '\\$') return '$';
    const name = (braced ?? bare) as string;
    const value = Object.hasOwn(vars, name) ? vars[name] : undefined;
    if (op === '-') return value ? value : (word as string);
    if (op === '+') return value ? (word as string) : '';
    return value ?? '';
  });
}

type Fail = (line: number, message: string) => never;

function failer(kind: BuildFileKind): Fail {
  const code = kind === 'Dockerfile' ? 'invalid_dockerfile' : 'invalid_paddockfile';
  return (line, message) => {
    throw new BadRequestError(`${kind} line ${line}: ${message}`, { line }, code);
  };
}

function stageIndex(file: Dockerfile, ref: string, line: number, fail: Fail): number {
  const lower = ref.toLowerCase();
  const named = file.stages.findIndex((s) => s.name === lower);
  if (named >= 0 && named < file.stages.length - 1) return named;
  if (/^\d+$/.test(ref) && Number(ref) < file.stages.length - 1) return Number(ref);
  return fail(line, `COPY --from=${ref}: not an earlier stage (COPY --from takes the name or number of a stage above)`);
}

function takeFlags(args: string): { flags: Array<{ name: string; value: string }>; rest: string } {
  const flags: Array<{ name: string; value: string }> = [];
  let rest = args;
  for (;;) {
    const m = /^(--[a-z-]+)(?:=(\S*))?\s*/.exec(rest);
    if (!m) return { flags, rest };
    flags.push({ name: m[1] as string, value: m[2] ?? '' });
    rest = rest.slice(m[0].length);
  }
}

function jsonArgv(args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined;
  try {
    const argv: unknown = JSON.parse(args);
    return Array.isArray(argv) && argv.every((a) => typeof a === 'string') ? argv : undefined;
  } catch {
    return undefined;
  }
}

/** Shell form runs under the stage's SHELL; exec form (a JSON array) runs as given. */
function commandArgv(args: string, shell: string[], keyword: string, line: number, fail: Fail): string[] {
  if (!args.startsWith('[')) return [...shell, args];
  const argv = jsonArgv(args);
  if (!argv) fail(line, `${keyword} exec form must be a JSON array of strings`);
  if (argv?.length === 0 && keyword === 'RUN') fail(line, 'RUN exec form needs a program');
  return argv as string[];
}

function argStep(args: string, line: number, fail: Fail): { name: string; value?: string } {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$/.exec(args);
  if (!m) fail(line, 'ARG takes NAME or NAME=default');
  const raw = m?.[2];
  return { name: m?.[1] as string, value: raw === undefined ? undefined : unquote(raw) };
}

/** KEY=value pairs (values may be quoted), or the old `KEY value` form. */
function pairs(args: string, keyword: string, line: number, fail: Fail): Array<[string, string]> {
  const old = /^([^\s=]+)\s+([\s\S]*)$/.exec(args);
  if (old && !(old[1] as string).includes('=')) return [[checkKey(old[1] as string, keyword, line, fail), old[2] as string]];
  const out: Array<[string, string]> = [];
  const re = /\s*("(?:[^"\\]|\\.)*"|[^\s=]+)=("(?:[^"\\]|\\.)*"|'[^']*'|(?:\\.|[^\s\\])*)/gy;
  let m: RegExpExecArray | null = re.exec(args);
  let end = 0;
  while (m) {
    out.push([checkKey(unquote(m[1] as string), keyword, line, fail), unquote(m[2] as string)]);
    end = re.lastIndex;
    m = re.exec(args);
  }
  if (out.length === 0 || args.slice(end).trim()) fail(line, `${keyword} needs KEY=value pairs`);
  return out;
}

function checkKey(key: string, keyword: string, line: number, fail: Fail): string {
  if (keyword === 'ENV' && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) fail(line, `ENV ${key}: names are letters, digits and "_"`);
  return key;
}

function unquote(raw: string): string {
  if (raw.startsWith('"') && raw.endsWith('"') && raw.length >= 2) return raw.slice(1, -1).replace(/\\(.)/g, '$1');
  if (raw.startsWith("'") && raw.endsWith("'") && raw.length >= 2) return raw.slice(1, -1);
  return raw.replace(/\\(.)/g, '$1');
}
