import type { ApprovalInfo } from '@paddock/sdk';

/** What the request would do, for people: its command, else its path, else what it is about. */
export function approvalWhat(a: ApprovalInfo): string {
  const { cmd, path, to, template } = a.context;
  if (Array.isArray(cmd)) return commandText(cmd.map(String));
  if (typeof path === 'string') return typeof to === 'string' ? `${path} → ${to}` : path;
  if (typeof template === 'string') return `template ${template}`;
  return a.resource;
}

/** `sh -c SCRIPT` reads best as the script itself, which is what was typed. */
function commandText(cmd: string[]): string {
  const [program, flag, script] = cmd;
  if (cmd.length === 3 && (program === 'sh' || program === '/bin/sh' || program === 'bash' || program === '/bin/bash') && flag === '-c') {
    return script ?? '';
  }
  return cmd.join(' ');
}
