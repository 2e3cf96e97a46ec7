import { z } from 'zod';

export const EncodingSchema = z.enum(['utf8', 'base64']);
export type Encoding = z.infer<typeof EncodingSchema>;

/**
 * A file's bytes as text or base64. Asked for neither, it is text when the
 * bytes are UTF-8 without NUL bytes and base64 otherwise; asked for utf8, bad
 * sequences become U+FFFD. A cut file may end inside a character: that
 * partial character is dropped, not taken as a sign of binary.
 */
export function fileContent(bytes: Uint8Array, options: { encoding?: Encoding; truncated?: boolean } = {}): { encoding: Encoding; content: string } {
  const stream = options.truncated === true;
  if (options.encoding === 'utf8') return { encoding: 'utf8', content: new TextDecoder('utf-8').decode(bytes, { stream }) };
  if (options.encoding === undefined && !bytes.includes(0)) {
    try {
      return { encoding: 'utf8', content: new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream }) };
    } catch {
      // Not UTF-8: base64 below.
    }
  }
  return { encoding: 'base64', content: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') };
}
