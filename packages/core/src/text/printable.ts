/**
 * Text from a source nobody here controls (a third-party server's tool
 * descriptions, errors, logs), with control, format and direction characters
 * shown as \u escapes: an escape sequence must not repaint what an operator
 * reads on a terminal. Line breaks stay when `keepLines` is set.
 */
export function printable(text: string, keepLines = false): string {
  return text.replace(/[\p{Cc}\p{Cf}\u2028\u2029]/gu, (c) => (keepLines && c === '\n' ? c : `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`));
}
