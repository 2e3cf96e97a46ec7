/** What the first bytes of a connection say about TLS. */
export type HelloReading = { kind: 'incomplete' } | { kind: 'not-tls' } | { kind: 'hello'; serverName: string | undefined };

const handshakeRecord = 0x16;
const clientHello = 0x01;
const serverNameExtension = 0x0000;
const hostNameType = 0x00;
/** A ClientHello larger than this is refused rather than buffered. */
export const maxHelloBytes = 64 * 1024;

/**
 * Reads the server name (SNI) from a TLS ClientHello without terminating
 * TLS; the hello may span several records.
 */
export function readClientHello(data: Buffer): HelloReading {
  if (data.length === 0) return { kind: 'incomplete' };
  if (data[0] !== handshakeRecord) return { kind: 'not-tls' };
  const handshake = handshakeBytes(data);
  if (handshake === 'not-tls') return { kind: 'not-tls' };
  if (handshake.length < 4) return data.length > maxHelloBytes ? { kind: 'not-tls' } : { kind: 'incomplete' };
  if (handshake[0] !== clientHello) return { kind: 'not-tls' };
  const helloLength = handshake.readUIntBE(1, 3);
  if (handshake.length < 4 + helloLength) return data.length > maxHelloBytes ? { kind: 'not-tls' } : { kind: 'incomplete' };
  try {
    return { kind: 'hello', serverName: serverNameOf(handshake.subarray(4, 4 + helloLength)) };
  } catch {
    return { kind: 'not-tls' };
  }
}

/** The handshake bytes carried by the complete records at the start of `data`. */
function handshakeBytes(data: Buffer): Buffer | 'not-tls' {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset + 5 <= data.length) {
    if (data[offset] !== handshakeRecord) return parts.length ? Buffer.concat(parts) : 'not-tls';
    const length = data.readUInt16BE(offset + 3);
    if (offset + 5 + length > data.length) break;
    parts.push(data.subarray(offset + 5, offset + 5 + length));
    offset += 5 + length;
  }
  return Buffer.concat(parts);
}

function serverNameOf(hello: Buffer): string | undefined {
  let at = 2 + 32; // client version, random
  at += 1 + hello.readUInt8(at); // session id
  at += 2 + hello.readUInt16BE(at); // cipher suites
  at += 1 + hello.readUInt8(at); // compression methods
  if (at + 2 > hello.length) return undefined; // no extensions
  const end = at + 2 + hello.readUInt16BE(at);
  at += 2;
  while (at + 4 <= end) {
    const type = hello.readUInt16BE(at);
    const length = hello.readUInt16BE(at + 2);
    const body = hello.subarray(at + 4, at + 4 + length);
    if (type === serverNameExtension) return hostNameIn(body);
    at += 4 + length;
  }
  return undefined;
}

function hostNameIn(extension: Buffer): string | undefined {
  let at = 2; // list length
  while (at + 3 <= extension.length) {
    const type = extension.readUInt8(at);
    const length = extension.readUInt16BE(at + 1);
    if (type === hostNameType) return extension.subarray(at + 3, at + 3 + length).toString('ascii');
    at += 3 + length;
  }
  return undefined;
}
