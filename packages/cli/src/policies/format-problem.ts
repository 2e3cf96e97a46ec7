import type { PolicyProblem } from '@paddock/sdk';

/** file:line: message, on one line, as compilers print them (editors jump to it). */
export function formatProblem(p: PolicyProblem): string {
  return `${p.file}:${p.line}: ${p.message.replace(/\s*\n\s*/g, ' ')}`;
}
