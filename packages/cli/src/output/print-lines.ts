/** One value a line on stdout, in a single write (ids for scripts). */
export function printLines(lines: string[]): void {
  if (lines.length > 0) process.stdout.write(`${lines.join('\n')}\n`);
}
