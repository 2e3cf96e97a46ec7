import { parse } from 'shell-quote';

export interface CommandRisk {
  /** 0 (nothing notable) to 100. */
  score: number;
  /** fetch-execute, destructive, privilege, credential-access */
  tags: string[];
  /** One line per finding, for people reading a decision or the audit log. */
  reasons: string[];
}

/** One simple command of a script: its words, what feeds its stdin, and where its stdout goes. */
interface Command {
  words: string[];
  /** Its stdin is the previous command's stdout. */
  pipedIn: boolean;
  /** A file redirected into its stdin. */
  stdinFile?: string;
  /** A here-string fed to its stdin. */
  hereString?: string;
  /** Its stdin is downloaded content (a pipe or redirect from a download, a here-string of one); known once the commands before it are looked at. */
  stdinDownloaded: boolean;
  /** A heredoc fed to it: the text, for a shell to run as a script. */
  heredoc?: string;
  /** Files its stdout is redirected into. */
  stdoutTo: string[];
}

const shells = new Set(['sh', 'bash', 'dash', 'zsh', 'ash', 'ksh']);
const interpreters = new Set([...shells, 'python', 'python2', 'python3', 'node', 'perl', 'ruby', 'php']);
const fetchers = new Set(['curl', 'wget', 'fetch', 'aria2c', 'http', 'https']);
/** What turns one file's bytes into output (so a downloaded file read by them is downloaded content again). */
const readers = new Set([
  'cat',
  'head',
  'tail',
  'tac',
  'base64',
  'base32',
  'xxd',
  'gunzip',
  'zcat',
  'bzcat',
  'xzcat',
  'gzip',
  'openssl',
  'rev',
  'sed',
  'awk',
  'cut',
]);
/** Options of an interpreter whose next argument is the code it runs. */
const inlineCode: Record<string, string[]> = {
  python: ['-c'],
  python2: ['-c'],
  python3: ['-c'],
  node: ['-e', '--eval', '-p', '--print'],
  perl: ['-e', '-E'],
  ruby: ['-e'],
  php: ['-r'],
};
/** Interpreter options that take a value (not a script file). */
const optionValues: Record<string, string[]> = {
  python: ['-m', '-W', '-X', '-Q'],
  python2: ['-m', '-W', '-X', '-Q'],
  python3: ['-m', '-W', '-X'],
  node: ['-r', '--require', '--import', '--input-type', '--loader'],
  perl: ['-I', '-M', '-m'],
  ruby: ['-I', '-r'],
  php: ['-d', '-c', '-f'],
};
const privileged = new Set(['sudo', 'su', 'doas', 'pkexec', 'nsenter', 'unshare', 'setcap', 'chroot', 'mount', 'insmod', 'modprobe']);
const wrappers = new Set(['sudo', 'doas', 'env', 'nohup', 'time', 'timeout', 'nice', 'exec', 'command', 'builtin', 'xargs', 'setsid', 'busybox', 'stdbuf']);
/** Words that open a compound command: what follows them is the command. */
const reserved = new Set(['if', 'then', 'else', 'elif', 'do', 'while', 'until', '!', '{', '}', 'fi', 'done']);
const declarers = new Set(['export', 'local', 'declare', 'readonly', 'typeset']);
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

/** Inline code that runs what it reads (exec(sys.stdin.read()), eval of STDIN …), as opposed to parsing it as data. */
const evaluatesStdin = /\b(exec|eval|compile|Function|runInThisContext|runInNewContext|instance_eval)\b/;

/** Marks left in words where a substitution or a variable was (shell-quote keeps them as text; a private-use character no script means). */
const mark = '\uE000';
const nestingLimit = 8;

/**
 * Scores what a command would do, for policies and the audit log. A shell
 * script (`sh -c '…'`, nested ones too) is parsed into commands, pipes,
 * redirects and substitutions, and followed as data: a file a downloader
 * wrote and a later command runs, a download fed to an interpreter through a
 * pipe (decoders on the way included), a here-string, a process or command
 * substitution, or a variable that holds one, and `-c`/`-e` code that comes
 * from one. Quoting or spacing hides nothing, and words inside strings are
 * not mistaken for commands. It is a signal for policy, not a sandbox: the
 * sandbox still contains whatever runs.
 */
export function assessCommand(argv: string[]): CommandRisk {
  const scan = new ScriptScan();
  scan.command({ words: argv, pipedIn: false, stdinDownloaded: false, stdoutTo: [] }, new Set(), 0);
  const unique = [...scan.findings.entries()];
  const score = Math.min(
    100,
    unique.reduce((sum, [, f]) => sum + f.weight, 0),
  );
  return { score, tags: [...new Set(unique.map(([, f]) => f.tag))].sort(), reasons: unique.map(([reason]) => reason) };
}

/** The state of one analysis: findings, files known to hold downloads, and what each substitution produced. */
class ScriptScan {
  readonly findings = new Map<string, { tag: string; weight: number }>();
  /** Base names of files written from a download (matched by base name: a `cd` between does not hide one). */
  private readonly downloadedFiles = new Set<string>();
  /**
   * Command (S) and process (P) substitutions by number: what they run, and
   * once looked at (when the command that holds them comes, so what the
   * commands before it wrote is known) whether they print downloaded content.
   */
  private readonly substitutions: Array<{ text: string; prints?: boolean }> = [];

  /** Looks at the substitutions a command holds, in order, before the command itself. */
  private runSubstitutions(command: Command, vars: Set<string>, depth: number): void {
    const texts = [...command.words, ...command.stdoutTo, command.stdinFile ?? '', command.hereString ?? ''].join(' ');
    for (const [, ref] of texts.matchAll(/\uE000[SP](\d+)\uE000/g)) {
      const substitution = this.substitutions[Number(ref)];
      if (substitution && substitution.prints === undefined) {
        substitution.prints = false;
        substitution.prints = this.script(substitution.text, new Set(vars), depth + 1);
      }
    }
  }

  add(tag: string, weight: number, reason: string): void {
    this.findings.set(reason, { tag, weight });
  }

  /**
   * Runs through a script; returns whether anything it prints is downloaded
   * content. `stdinDownloaded`: the script's own stdin is (a nested `sh -c`
   * fed a download), so its commands that read stdin read that.
   */
  script(text: string, vars: Set<string>, depth: number, stdinDownloaded = false): boolean {
    if (depth > nestingLimit) return false;
    const prepared = this.prepare(text, depth);
    let prints = false;
    let previous = false;
    for (const command of splitCommands(prepared)) {
      this.runSubstitutions(command, vars, depth);
      command.stdinDownloaded =
        (command.pipedIn ? previous : stdinDownloaded && command.stdinFile === undefined && command.hereString === undefined) ||
        (command.stdinFile !== undefined && this.isDownloadedFile(command.stdinFile)) ||
        (command.hereString !== undefined && this.tainted(command.hereString, vars));
      previous = this.command(command, vars, depth);
      if (previous && command.stdoutTo.length === 0) prints = true;
    }
    return prints;
  }

  /**
   * Looks at one simple command: what it runs, what it writes, and the usual
   * destructive, privileged and credential findings. Returns whether its
   * stdout is downloaded content.
   */
  command(command: Command, vars: Set<string>, depth: number): boolean {
    const { words } = command;
    const assignments: string[] = [];
    let start = 0;
    while (start < words.length && (reserved.has(words[start] as string) || isAssignment(words[start] as string))) {
      if (isAssignment(words[start] as string)) assignments.push(words[start] as string);
      start++;
    }
    for (const a of assignments) this.assign(a, vars);
    const effective = effectiveWords(words.slice(start));
    const [program, ...args] = effective;
    if (program === undefined) return false;
    const name = baseName(program);
    const through = words.slice(start, start + (words.length - start - effective.length));
    const viaXargs = through.some((w) => baseName(w) === 'xargs');
    this.staticFindings(words.slice(start), program, name, args);
    if (declarers.has(name)) {
      for (const a of args) if (isAssignment(a)) this.assign(a, vars);
      return false;
    }

    const tainted = (w: string) => this.tainted(w, vars);
    const downloadedFile = (w: string) => this.isDownloadedFile(w);
    if (tainted(program)) this.add('fetch-execute', 70, 'runs the output of a download as a command');
    else if (downloadedFile(program)) this.add('fetch-execute', 70, `runs ${program}, a file it downloaded`);

    let printsDownload = command.stdinDownloaded;
    if (fetchers.has(name)) {
      const { files, toStdout } = downloadTargets(name, args);
      for (const f of files) this.downloadedFiles.add(baseName(f));
      if (toStdout) printsDownload = true;
    }
    if ((name === 'echo' || name === 'printf') && args.some(tainted)) printsDownload = true;
    if (readers.has(name) && args.some((a) => !a.startsWith('-') && downloadedFile(a))) printsDownload = true;
    if (name === 'tee' && command.stdinDownloaded) for (const f of args.filter((a) => !a.startsWith('-'))) this.downloadedFiles.add(baseName(f));
    if (
      (name === 'cp' || name === 'mv' || name === 'install') &&
      args
        .filter((a) => !a.startsWith('-'))
        .slice(0, -1)
        .some(downloadedFile)
    ) {
      const target = args.at(-1);
      if (target) this.downloadedFiles.add(baseName(target));
    }
    if (printsDownload) for (const f of command.stdoutTo) this.downloadedFiles.add(baseName(f));

    if (name === 'eval' && args.some(tainted)) this.add('fetch-execute', 70, 'eval runs downloaded content');
    if ((name === '.' || name === 'source') && args[0] !== undefined) {
      if (downloadedFile(args[0]) || tainted(args[0])) this.add('fetch-execute', 70, `${name} runs a file it downloaded`);
      else if ((args[0] === '/dev/stdin' || args[0] === '-') && command.stdinDownloaded)
        this.add('fetch-execute', 70, `${name} runs downloaded content from stdin`);
    }
    if (interpreters.has(name)) this.interpreter(command, name, args, viaXargs, vars, depth);
    return printsDownload;
  }

  /** An interpreter runs downloaded code when its script, its inline code or its stdin (as the program) is a download. */
  private interpreter(command: Command, name: string, args: string[], viaXargs: boolean, vars: Set<string>, depth: number): void {
    const tainted = (w: string) => this.tainted(w, vars);
    if (viaXargs && command.stdinDownloaded) {
      this.add('fetch-execute', 70, `xargs hands downloaded content to ${name}`);
      return;
    }
    const shell = shells.has(name);
    const codeAt = shell ? args.findIndex((a) => a === '-c' || /^-[a-z]*c[a-z]*$/.test(a)) : args.findIndex((a) => (inlineCode[name] ?? []).includes(a));
    if (codeAt >= 0) {
      const code = args[codeAt + 1];
      if (code === undefined) return;
      if (tainted(code)) this.add('fetch-execute', 70, `${name} runs downloaded code given inline`);
      // A nested shell: its commands are looked at as well (variables are its own, files are shared).
      else if (shell) this.script(code, new Set(), depth + 1, command.stdinDownloaded);
      else if (command.stdinDownloaded && evaluatesStdin.test(code) && /stdin|STDIN|<>/.test(code))
        this.add('fetch-execute', 70, `${name} evaluates downloaded content it reads from stdin`);
      return;
    }
    const operand = scriptOperand(name, args);
    if (operand === undefined || operand === '-' || operand === '/dev/stdin' || (shell && args.includes('-s'))) {
      if (command.stdinDownloaded) this.add('fetch-execute', 70, `downloaded content is piped into ${name}`);
      else if (shell && command.heredoc !== undefined) this.script(command.heredoc, new Set(), depth + 1);
      return;
    }
    if (this.isDownloadedFile(operand) || tainted(operand)) this.add('fetch-execute', 70, `${name} runs ${this.describe(operand)}, which it downloaded`);
  }

  private staticFindings(words: string[], program: string, name: string, args: string[]): void {
    if (words[0] !== program && words.some((w) => privileged.has(w))) this.add('privilege', 40, `runs ${program} through ${words[0]}`);
    if (privileged.has(name)) this.add('privilege', 40, `${name} changes privileges or namespaces`);
    if (name === 'chmod' && args.some((a) => /^[0-7]*[4-7][0-7]{3}$/.test(a) || /[ug]\+s/.test(a)))
      this.add('privilege', 40, 'chmod sets a setuid or setgid bit');
    if (name === 'rm' && hasFlag(args, 'r') && args.some((a) => /^(\/|\/\*|~|\/work|\/work\/\*|\*|\.|\.\.)$/.test(a)))
      this.add('destructive', 60, `rm -r of ${args.filter((a) => !a.startsWith('-')).join(' ')}`);
    if (['mkfs', 'shred', 'wipefs'].includes(name.split('.')[0] ?? '')) this.add('destructive', 60, `${name} destroys data`);
    if (name === 'dd' && args.some((a) => /^of=\/dev\//.test(a))) this.add('destructive', 60, 'dd writes to a device');
    if (name === 'find' && args.includes('-delete')) this.add('destructive', 30, 'find -delete removes files');
    if (name === 'git' && args[0] === 'push' && args.some((a) => a === '--force' || a === '-f'))
      this.add('destructive', 30, 'git push --force rewrites remote history');
    const secret = args.find((a) => secretPaths.some((p) => p.test(a.replace(/^~/, '/root'))));
    if (secret) this.add('credential-access', 40, `${name} touches ${secret}`);
    if ((name === 'env' || name === 'printenv') && args.length === 0) this.add('credential-access', 20, `${name} prints the environment`);
  }

  private assign(word: string, vars: Set<string>): void {
    const eq = word.indexOf('=');
    const variable = word.slice(0, eq).replace(/\+$/, '');
    if (this.tainted(word.slice(eq + 1), vars)) vars.add(variable);
    else vars.delete(variable);
  }

  /** Whether a word carries downloaded content: a substitution that printed some, or a variable holding some. */
  private tainted(word: string, vars: Set<string>): boolean {
    for (const [, kind, ref] of word.matchAll(/\uE000([SVP])([^\uE000]*)\uE000/g)) {
      if (kind === 'S' && this.substitutions[Number(ref)]?.prints) return true;
      if (kind === 'V' && vars.has(ref as string)) return true;
    }
    return false;
  }

  private isDownloadedFile(word: string): boolean {
    const processFile = /^\uE000P(\d+)\uE000$/.exec(word);
    if (processFile) return this.substitutions[Number(processFile[1])]?.prints === true;
    return !word.includes(mark) && this.downloadedFiles.has(baseName(word));
  }

  private describe(word: string): string {
    return word.includes(mark) ? 'a process substitution' : word;
  }

  /**
   * Replaces each command and process substitution outside single quotes
   * with a mark (after running through what it runs), heredocs with a
   * here-string of their text, and ends lines with `;`, so that shell-quote
   * sees one line of simple commands whose words keep where substitutions were.
   */
  private prepare(text: string, depth: number): string {
    let out = '';
    let quote: '' | "'" | '"' = '';
    let i = 0;
    const heredocs: Array<{ delimiter: string; at: number }> = [];
    while (i < text.length) {
      const c = text[i] as string;
      if (quote === "'") {
        if (c === "'") quote = '';
        out += c;
        i++;
        continue;
      }
      if (c === '\\') {
        if (text[i + 1] === '\n') i += 2;
        else {
          out += text.slice(i, i + 2);
          i += 2;
        }
        continue;
      }
      const substitution = c === '`' ? 'backtick' : text.startsWith('$(', i) && !text.startsWith('$((', i) ? 'dollar' : undefined;
      const processSub = !quote && (text.startsWith('<(', i) || text.startsWith('>(', i));
      if (substitution || processSub) {
        const open = substitution === 'backtick' ? i : i + 1;
        const end = substitution === 'backtick' ? text.indexOf('`', i + 1) : closingParen(text, open);
        const inner = text.slice(open + 1, end < 0 ? text.length : end);
        if (processSub && c === '>') {
          // What writes into it is not followed; what it runs is still looked at.
          this.script(inner, new Set(), depth + 1);
          out += '/dev/null';
        } else {
          this.substitutions.push({ text: inner });
          out += `\${__pdk_${processSub ? 'P' : 'S'}${this.substitutions.length - 1}}`;
        }
        i = end < 0 ? text.length : end + 1;
        continue;
      }
      if (quote === '"') {
        if (c === '"') quote = '';
        out += c;
        i++;
        continue;
      }
      if (c === "'" || c === '"') quote = c;
      if (c === '#' && (i === 0 || /\s/.test(text[i - 1] as string))) {
        // A comment runs to the end of the line.
        const eol = text.indexOf('\n', i);
        i = eol < 0 ? text.length : eol;
        continue;
      }
      if (text.startsWith('<<<', i)) {
        out += '<<<';
        i += 3;
        continue;
      }
      // A file descriptor before a redirect (2>/dev/null) is not a word.
      if (/\d/.test(c) && (i === 0 || /\s/.test(text[i - 1] as string)) && /[<>]/.test(text[i + 1] ?? '')) {
        i++;
        continue;
      }
      if (text.startsWith('<<', i)) {
        const m = /^<<-?\s*(['"]?)([A-Za-z0-9_]+)\1/.exec(text.slice(i));
        if (m) {
          heredocs.push({ delimiter: m[2] as string, at: out.length });
          out += '<<<';
          i += m[0].length;
          continue;
        }
      }
      if (c === '\n') {
        i++;
        if (heredocs.length) {
          // The heredocs opened on this line: their bodies follow it.
          for (const doc of heredocs.splice(0)) {
            const lines: string[] = [];
            while (i < text.length) {
              const eol = text.indexOf('\n', i);
              const line = text.slice(i, eol < 0 ? text.length : eol);
              i = eol < 0 ? text.length : eol + 1;
              if (line.trim() === doc.delimiter) break;
              lines.push(line);
            }
            out = `${out.slice(0, doc.at)}<<< '${mark}H${lines.join('\n').replaceAll("'", '')}${mark}'${out.slice(doc.at + 3)}`;
          }
        }
        // A line that ends in a pipe or && goes on on the next one.
        out += /(\||&&)\s*$/.test(out) ? ' ' : ' ; ';
        continue;
      }
      out += c;
      i++;
    }
    return out;
  }
}

/** Splits a prepared script into simple commands with their pipes and redirects. */
function splitCommands(script: string): Command[] {
  const commands: Command[] = [];
  const fresh = (pipedIn: boolean): Command => ({ words: [], pipedIn, stdinDownloaded: false, stdoutTo: [] });
  let current = fresh(false);
  let pending: string | undefined;
  const tokens = parse(script, (name: string) => (name.startsWith('__pdk_') ? `${mark}${name.slice(6)}${mark}` : `${mark}V${name}${mark}`));
  const finish = (pipe: boolean) => {
    if (current.words.length || current.heredoc !== undefined || current.stdinFile !== undefined || current.hereString !== undefined) commands.push(current);
    current = fresh(pipe);
  };
  for (const token of tokens) {
    const word = typeof token === 'string' ? token : 'op' in token && token.op === 'glob' ? (token as { pattern: string }).pattern : undefined;
    if (word !== undefined) {
      if (pending === undefined) current.words.push(word);
      else if (pending === '>' || pending === '>>' || pending === '>|') current.stdoutTo.push(word);
      else if (pending === '<') current.stdinFile = word;
      else if (pending === '<<<' && word.startsWith(`${mark}H`)) current.heredoc = word.slice(2, -1);
      else if (pending === '<<<') current.hereString = word;
      pending = undefined;
      continue;
    }
    if (typeof token === 'string' || !('op' in token)) continue;
    const op = token.op as string;
    if (['>', '>>', '>|', '<', '<<<', '>&', '<&'].includes(op)) pending = op;
    else if (op === '(' || op === ')') continue;
    else {
      pending = undefined;
      finish(op === '|' || op === '|&');
    }
  }
  finish(false);
  return commands;
}

/** The script file an interpreter runs: its first operand that is not an option or an option's value. */
function scriptOperand(name: string, args: string[]): string | undefined {
  const valued = optionValues[name] ?? [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--') return args[i + 1];
    if (valued.includes(a)) {
      // `python3 -m module` runs an installed module, not a file.
      if (a === '-m') return '';
      i++;
      continue;
    }
    if (a.startsWith('-') && a !== '-') continue;
    return a;
  }
  return undefined;
}

/** Files a downloader writes, and whether it writes to stdout. */
function downloadTargets(name: string, args: string[]): { files: string[]; toStdout: boolean } {
  const files: string[] = [];
  const urls: string[] = [];
  let remoteName = false;
  let outputSet = false;
  let outputToStdout = false;
  let dir = '';
  const valued = name === 'curl' ? 'HdXuAexmwTFbcKrYyzECDUPQt' : name === 'wget' ? 'aiotTwePUQBY' : 'd';
  const output = (file: string) => {
    outputSet = true;
    if (file === '-') outputToStdout = true;
    else files.push(file);
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    const long = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (long) {
      const [, option, inline] = long;
      const value = () => inline ?? args[++i] ?? '';
      if (option === 'output' || option === 'output-document' || option === 'out') output(value());
      else if (option === 'remote-name' || option === 'remote-name-all') remoteName = true;
      else if (option === 'directory-prefix' || option === 'dir') dir = value();
      else if (
        inline === undefined &&
        ['header', 'data', 'request', 'user', 'user-agent', 'referer', 'proxy', 'max-time', 'write-out', 'form', 'cookie'].includes(option as string)
      )
        i++;
      continue;
    }
    if (/^-[A-Za-z]/.test(a)) {
      for (let j = 1; j < a.length; j++) {
        const flag = a[j] as string;
        const rest = a.slice(j + 1);
        const isOutput = name === 'wget' ? flag === 'O' : flag === 'o';
        if (isOutput) {
          output(rest || (args[++i] ?? ''));
          break;
        }
        if (name === 'curl' && flag === 'O') remoteName = true;
        else if ((name === 'wget' && flag === 'P') || (name === 'aria2c' && flag === 'd')) {
          dir = rest || (args[++i] ?? '');
          break;
        } else if (valued.includes(flag)) {
          if (!rest) i++;
          break;
        }
      }
      continue;
    }
    urls.push(a);
  }
  const fromUrl = urls.map((u) => `${dir ? `${dir}/` : ''}${baseName(u.replace(/[?#].*$/, '')) || 'index.html'}`);
  // wget, fetch and aria2c save to a file named after the URL unless told otherwise; curl prints.
  const savesByDefault = name !== 'curl' && name !== 'http' && name !== 'https';
  if (remoteName || (savesByDefault && !outputSet)) files.push(...fromUrl);
  return { files, toStdout: outputToStdout || (!outputSet && !remoteName && !savesByDefault) };
}

/** Index of the `)` that closes the `(` at `open`, skipping quoted text and nested parentheses. */
function closingParen(text: string, open: number): number {
  let depth = 0;
  let quote = '';
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = '';
      continue;
    }
    if (c === '\\') i++;
    else if (c === "'" || c === '"') quote = c;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
  }
  return -1;
}

/** Drops wrappers (sudo, env, nohup, xargs …) and their options to find the program that really runs. */
function effectiveWords(words: string[]): string[] {
  let i = 0;
  while (i < words.length) {
    const w = words[i] as string;
    if (!wrappers.has(baseName(w))) break;
    let next = i + 1;
    while (next < words.length && ((words[next] as string).startsWith('-') || isAssignment(words[next] as string))) {
      // xargs -I {} and timeout's duration take a value.
      if (/^-[IiLnPsd]$/.test(words[next] as string) && baseName(w) === 'xargs') next++;
      next++;
    }
    if (baseName(w) === 'timeout' && next < words.length && /^\d/.test(words[next] as string)) next++;
    // A wrapper with nothing to run is the program itself (a bare `env` prints the environment).
    if (next >= words.length) break;
    i = next;
  }
  return words.slice(i);
}

function isAssignment(word: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*\+?=/.test(word);
}

function baseName(path: string): string {
  return path.replace(/\/+$/, '').split('/').at(-1) ?? path;
}

function hasFlag(args: string[], letter: string): boolean {
  return args.some((a) => (/^-[a-zA-Z]+$/.test(a) && a.includes(letter)) || (letter === 'r' && /^--recursive$/.test(a)));
}
