import { parse } from 'shell-quote';

export interface CommandRisk {
  /** 0 (nothing notable) to 100. */
  score: number;
  /** fetch-execute, destructive, privilege, credential-access */
  tags: string[];
  /** One line per finding, for people reading a decision or the audit log. */
  reasons: string[];
}

type Segment = { words: string[]; pipedFrom?: Segment; substituted?: boolean };

const shells = new Set(['sh', 'bash', 'dash', 'zsh', 'ash', 'ksh']);
const interpreters = new Set([...shells, 'python', 'python3', 'node', 'perl', 'ruby', 'php']);
const fetchers = new Set(['curl', 'wget', 'fetch', 'aria2c']);
const privileged = new Set(['sudo', 'su', 'doas', 'pkexec', 'nsenter', 'unshare', 'setcap', 'chroot', 'mount', 'insmod', 'modprobe']);
const wrappers = new Set(['sudo', 'doas', 'env', 'nohup', 'time', 'timeout', 'nice', 'exec', 'command', 'builtin', 'xargs', 'setsid']);
const secretPaths = [
  /(^|\/)\.ssh\//,
  /^\/etc\/shadow$/,
  /(^|\/)\.aws\/credentials$/,
  /(^|\/)\.netrc$/,
  /(^|\/)\.docker\/config\.json$/,
  /(^|\/)\.kube\/config$/,
  /(^|\/)\.env$/,
  /(^|\/)\.git-credentials$/,
];

/**
 * Scores what a command would do, for policies and the audit log. A shell
 * script (`sh -c '…'`) is parsed into commands, pipes and substitutions, so
 * quoting or spacing does not hide anything and words inside strings are not
 * mistaken for commands. It is a signal for policy, not a sandbox: the
 * sandbox still contains whatever runs.
 */
export function assessCommand(argv: string[]): CommandRisk {
  const findings = new Map<string, { tag: string; weight: number }>();
  const add = (tag: string, weight: number, reason: string) => findings.set(reason, { tag, weight });
  for (const segment of segmentsOf(argv)) {
    const [program, ...args] = effectiveWords(segment.words);
    if (!program) continue;
    const name = program.split('/').at(-1) ?? program;
    const feedsFromFetch = (s: Segment | undefined): boolean => !!s && (isFetch(s) || feedsFromFetch(s.pipedFrom));
    if (interpreters.has(name) && feedsFromFetch(segment.pipedFrom)) add('fetch-execute', 70, `downloaded content is piped into ${name}`);
    if (interpreters.has(name) && segment.words.some((w) => w.startsWith('\u0000fetch')))
      add('fetch-execute', 70, `${name} runs a download through process substitution`);
    if (segment.words[0] !== program && segment.words.some((w) => privileged.has(w))) add('privilege', 40, `runs ${program} through ${segment.words[0]}`);
    if (privileged.has(name)) add('privilege', 40, `${name} changes privileges or namespaces`);
    if (name === 'chmod' && args.some((a) => /^[0-7]*[4-7][0-7]{3}$/.test(a) || /[ug]\+s/.test(a))) add('privilege', 40, 'chmod sets a setuid or setgid bit');
    if (name === 'rm' && hasFlag(args, 'r') && args.some((a) => /^(\/|\/\*|~|\/work|\/work\/\*|\*|\.|\.\.)$/.test(a)))
      add('destructive', 60, `rm -r of ${args.filter((a) => !a.startsWith('-')).join(' ')}`);
    if (['mkfs', 'shred', 'wipefs'].includes(name.split('.')[0] ?? '')) add('destructive', 60, `${name} destroys data`);
    if (name === 'dd' && args.some((a) => /^of=\/dev\//.test(a))) add('destructive', 60, 'dd writes to a device');
    if (name === 'find' && args.includes('-delete')) add('destructive', 30, 'find -delete removes files');
    if (name === 'git' && args[0] === 'push' && args.some((a) => a === '--force' || a === '-f'))
      add('destructive', 30, 'git push --force rewrites remote history');
    const secret = args.find((a) => secretPaths.some((p) => p.test(a.replace(/^~/, '/root'))));
    if (secret) add('credential-access', 40, `${name} touches ${secret}`);
    if ((name === 'env' || name === 'printenv') && args.length === 0) add('credential-access', 20, `${name} prints the environment`);
  }
  const unique = [...findings.entries()];
  const score = Math.min(
    100,
    unique.reduce((sum, [, f]) => sum + f.weight, 0),
  );
  return { score, tags: [...new Set(unique.map(([, f]) => f.tag))].sort(), reasons: unique.map(([reason]) => reason) };
}

/** The simple commands of an argv: the argv itself, or each command of a `sh -c` script. */
function segmentsOf(argv: string[]): Segment[] {
  const [program, ...rest] = argv;
  const name = program?.split('/').at(-1) ?? '';
  const scriptAt = rest.findIndex((a) => a === '-c' || /^-[a-z]*c$/.test(a));
  if (shells.has(name) && scriptAt >= 0 && rest[scriptAt + 1] !== undefined) return parseScript(rest[scriptAt + 1] as string);
  return [{ words: argv }];
}

function parseScript(script: string): Segment[] {
  const segments: Segment[] = [];
  let current: Segment = { words: [] };
  let depth = 0;
  let substitution: Segment | undefined;
  const finish = (next: Partial<Segment> = {}) => {
    if (current.words.length) segments.push(current);
    current = { words: [], ...next };
  };
  for (const token of parse(script)) {
    if (typeof token === 'string') {
      current.words.push(token);
      continue;
    }
    if (!('op' in token)) continue;
    const op = token.op as string;
    if (op === '|') finish({ pipedFrom: current });
    else if (op === '<(' || op === '(') {
      // What a substitution runs is a command of its own; the outer one is marked when it fetches.
      depth++;
      substitution = current;
      finish();
    } else if (op === ')') {
      depth = Math.max(0, depth - 1);
      const inner = current;
      finish();
      if (substitution && isFetch(inner)) {
        substitution.words.push('\u0000fetch');
        current = substitution;
        segments.splice(segments.indexOf(substitution), 1);
      }
      substitution = undefined;
    } else finish();
  }
  finish();
  return segments;
}

function isFetch(segment: Segment): boolean {
  const [program] = effectiveWords(segment.words);
  return fetchers.has(program?.split('/').at(-1) ?? '');
}

/** Drops variable assignments and wrappers (sudo, env, nohup …) to find the program that really runs. */
function effectiveWords(words: string[]): string[] {
  let i = 0;
  while (i < words.length) {
    const w = words[i] as string;
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(w)) {
      i++;
      continue;
    }
    if (!wrappers.has(w.split('/').at(-1) ?? '')) break;
    let next = i + 1;
    while (next < words.length && ((words[next] as string).startsWith('-') || /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[next] as string))) next++;
    // A wrapper with nothing to run is the program itself (a bare `env` prints the environment).
    if (next >= words.length) break;
    i = next;
  }
  return words.slice(i);
}

function hasFlag(args: string[], letter: string): boolean {
  return args.some((a) => (/^-[a-zA-Z]+$/.test(a) && a.includes(letter)) || (letter === 'r' && /^--recursive$/.test(a)));
}
