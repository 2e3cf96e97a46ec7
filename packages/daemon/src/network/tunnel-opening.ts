import { readClientHello } from './tls-client-hello.js';

/** What the first bytes in a CONNECT tunnel say it carries; `incomplete` until they can tell. */
export type TunnelOpening =
  | { kind: 'incomplete' }
  | { kind: 'tls'; serverName: string | undefined }
  | { kind: 'http' }
  | { kind: 'other' }
  | { kind: 'too-long' };

/** A first line longer than this, still possibly a request line, is refused rather than buffered. */
export const maxFirstLineBytes = 8192;

const tokenByte = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]$/;
/** What a request line can still become: a method, then a blank and anything before the line ends. */
const requestLinePrefix = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?:[ \t][^\n]*)?$/s;
/**
 * A request line as a lenient server reads it: any method in any case, any
 * target (even with blanks in it), a version in any case.
 */
const requestLine = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+[ \t].*[ \t]HTTP\/\d/is;

/**
 * Decides on the whole opening, never on the first piece the sandbox chose
 * to write: a TLS hello once its records are complete, plain text once its
 * first line has ended. Blank lines and blanks before it are skipped, as
 * servers skip them.
 */
export function readTunnelOpening(data: Buffer): TunnelOpening {
  const hello = readClientHello(data);
  if (hello.kind === 'incomplete') return hello;
  if (hello.kind === 'hello') return { kind: 'tls', serverName: hello.serverName };
  return readFirstLine(data);
}

function readFirstLine(data: Buffer): TunnelOpening {
  let start = 0;
  while (start < data.length && isBlank(data[start] as number)) start += 1;
  if (start === data.length) return data.length > maxFirstLineBytes ? { kind: 'too-long' } : { kind: 'incomplete' };
  if (!tokenByte.test(String.fromCharCode(data[start] as number))) return { kind: 'other' };
  const end = data.indexOf(0x0a, start);
  const line = data.subarray(start, end < 0 ? undefined : end).toString('latin1');
  if (end >= 0) return requestLine.test(line) ? { kind: 'http' } : { kind: 'other' };
  if (!requestLinePrefix.test(line)) return { kind: 'other' };
  return data.length > maxFirstLineBytes ? { kind: 'too-long' } : { kind: 'incomplete' };
}

function isBlank(byte: number): boolean {
  return byte === 0x0d || byte === 0x0a || byte === 0x20 || byte === 0x09;
}
