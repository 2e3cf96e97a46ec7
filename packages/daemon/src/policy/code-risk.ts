import type { CodeLanguage } from '@paddock/core';
import { assessCommand, type CommandRisk } from './command-risk.js';

interface Signal {
  pattern: RegExp;
  tag: string;
  weight: number;
  reason: string;
}

const credentialFiles: Signal = {
  pattern: /\.ssh\/|\/etc\/shadow|\.aws\/credentials|\.netrc\b|\.git-credentials/,
  tag: 'credential-access',
  weight: 30,
  reason: 'reads credential files',
};

/** What a Python cell may do that a policy wants to see, as command risk names it. */
const pythonSignals: Signal[] = [
  { pattern: /\bos\s*\.\s*(system|popen|exec[lv]p?e?|spawn[lv]p?e?)\s*\(/, tag: 'shell', weight: 30, reason: 'runs a shell command (os.system and kin)' },
  { pattern: /\bsubprocess\b|\bpty\s*\.\s*spawn\b|\bcommands\s*\.\s*getoutput\b/, tag: 'shell', weight: 30, reason: 'runs programs (subprocess)' },
  {
    pattern: /\b(exec|eval|compile)\s*\([^\n]*\b(requests|httpx|urllib|urlopen|aiohttp|urlretrieve)\b/,
    tag: 'fetch-execute',
    weight: 60,
    reason: 'runs code it downloads (exec of a download)',
  },
  { pattern: /\bshutil\s*\.\s*rmtree\s*\(\s*['"]\/['"]/, tag: 'destructive', weight: 40, reason: 'removes the whole file system' },
  credentialFiles,
  { pattern: /\bctypes\b|\bptrace\b/, tag: 'privilege', weight: 20, reason: 'calls native code directly (ctypes)' },
];

/** The same for a JavaScript cell (node). */
const javascriptSignals: Signal[] = [
  { pattern: /\bchild_process\b|\b(execSync|spawnSync|execFileSync)\s*\(/, tag: 'shell', weight: 30, reason: 'runs programs (child_process)' },
  {
    pattern: /\b(eval|Function|runInThisContext|runInNewContext)\s*\([^\n]*\b(fetch|https?\.get|axios|request)\b/,
    tag: 'fetch-execute',
    weight: 60,
    reason: 'runs code it downloads (eval of a download)',
  },
  { pattern: /\brmSync\s*\(\s*['"`]\/['"`]/, tag: 'destructive', weight: 40, reason: 'removes the whole file system' },
  credentialFiles,
  { pattern: /\bprocess\s*\.\s*binding\b|\bprocess\s*\.\s*dlopen\b/, tag: 'privilege', weight: 20, reason: "calls node's native bindings directly" },
];

/** IPython's shell escapes: `!cmd` and `%system cmd` lines, `%%bash`/`%%sh`/`%%script` cells. */
const shellLine = /^\s*(?:!|%(?:system|sx)\s)(.*)$/gm;
const shellCell = /^\s*%%(?:bash|sh|script\s+\S+)\s*\n([\s\S]*)$/;
/** Strings passed to child_process's exec and execSync, which run them with a shell. */
const jsShellString = /\b(?:exec|execSync)\s*\(\s*(['"`])((?:\\.|(?!\1).)*)\1/g;
/** Strings passed to os.system and subprocess with shell=True, scored as the shell scripts they are. */
const shellString = /\b(?:os\s*\.\s*(?:system|popen)|subprocess\s*\.\s*\w+)\s*\(\s*[rbuf]?(['"])((?:\\.|(?!\1).)*)\1/g;

/**
 * Scores a cell for policies and the audit log, with the same scale and tags
 * as a command. A Bash cell is a shell script: the command engine scores it.
 * In Python and JavaScript, the shell scripts inside a cell (IPython's shell
 * escapes, strings given to os.system, subprocess or child_process's exec)
 * are scored by the command engine, and the language's own ways to run
 * programs, run downloads or read credentials add their signals. A pattern
 * match, not a proof: the sandbox still contains whatever the cell does.
 */
export function assessCode(code: string, language: CodeLanguage = 'python'): CommandRisk {
  if (language === 'bash') return assessCommand(['bash', '-c', code]);
  const findings = new Map<string, { tags: string[]; weight: number }>();
  const signals = language === 'javascript' ? javascriptSignals : pythonSignals;
  for (const s of signals) if (s.pattern.test(code)) findings.set(s.reason, { tags: [s.tag], weight: s.weight });
  const scripts: string[] = [];
  if (language === 'python') {
    scripts.push(...[...code.matchAll(shellLine)].map((m) => m[1] ?? ''));
    const cell = shellCell.exec(code);
    if (cell) scripts.push(cell[1] ?? '');
    for (const m of code.matchAll(shellString)) scripts.push(m[2] ?? '');
  } else for (const m of code.matchAll(jsShellString)) scripts.push(m[2] ?? '');
  for (const script of scripts) {
    const risk = assessCommand(['sh', '-c', script]);
    for (const reason of risk.reasons) findings.set(`in a shell command: ${reason}`, { tags: risk.tags, weight: 0 });
    // A script's own score counts once, however many reasons it gave.
    if (risk.score > 0) findings.set(`a shell command scored ${risk.score}`, { tags: risk.tags, weight: risk.score });
  }
  const unique = [...findings.entries()];
  const score = Math.min(
    100,
    unique.reduce((sum, [, f]) => sum + f.weight, 0),
  );
  return { score, tags: [...new Set(unique.flatMap(([, f]) => f.tags))].sort(), reasons: unique.map(([reason]) => reason) };
}
