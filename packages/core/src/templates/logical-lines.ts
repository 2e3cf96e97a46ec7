/**
 * The instructions of a Dockerfile or Paddockfile as logical lines: `\`
 * continuations joined, blank lines and `#` comments left out (inside a
 * continued instruction too, as Docker allows), each with the line it starts on.
 */
export function logicalLines(text: string): Array<{ line: number; content: string }> {
  const out: Array<{ line: number; content: string }> = [];
  let buffer = '';
  let start = 0;
  text.split(/\r?\n/).forEach((raw, i) => {
    const trimmed = raw.trim();
    // Comments and blank lines may sit inside a continued instruction, as Docker allows.
    if (trimmed === '' || trimmed.startsWith('#')) return;
    if (buffer === '') start = i + 1;
    if (trimmed.endsWith('\\')) {
      buffer += `${trimmed.slice(0, -1)} `;
      return;
    }
    buffer += trimmed;
    out.push({ line: start, content: buffer });
    buffer = '';
  });
  if (buffer) out.push({ line: start, content: buffer.trim() });
  return out;
}
