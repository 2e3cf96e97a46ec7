/**
 * Keeps the start and the end of a long text (where a command's usage line
 * and its final error usually are) and says how much was cut between them:
 * what a model reads of an output that would cost it more context than it
 * tells.
 */
export function keepEnds(text: string, maxChars: number): { text: string; truncated: boolean } {
  if (text.length <= maxChars) return { text, truncated: false };
  const head = Math.ceil(maxChars / 2);
  const tail = maxChars - head;
  const cut = text.length - head - tail;
  return { text: `${text.slice(0, head)}\n[… ${cut} characters cut …]\n${text.slice(text.length - tail)}`, truncated: true };
}
