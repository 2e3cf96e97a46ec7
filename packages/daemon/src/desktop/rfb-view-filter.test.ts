import { describe, expect, it } from 'vitest';
import { RfbViewFilter, RfbViolation } from './rfb-view-filter.js';

const handshake = Buffer.concat([Buffer.from('RFB 003.008\n', 'latin1'), Buffer.from([1]), Buffer.from([1])]);
const updateRequest = Buffer.from([3, 0, 0, 0, 0, 0, 0x05, 0, 0x03, 0x20]);
const pointer = Buffer.from([5, 1, 0, 10, 0, 20]);
const key = Buffer.from([4, 1, 0, 0, 0, 0, 0xff, 0x0d]);
const cut = Buffer.concat([Buffer.from([6, 0, 0, 0, 0, 0, 0, 3]), Buffer.from('abc')]);
// The extended clipboard's caps, as noVNC sends them: a ClientCutText whose length is negative (-4).
const extendedCut = Buffer.concat([Buffer.from([6, 0, 0, 0, 0xff, 0xff, 0xff, 0xfc]), Buffer.from([0, 0, 0, 1])]);
const encodings = Buffer.from([2, 0, 0, 2, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x21]);

describe('the watcher’s RFB filter', () => {
  it('passes the handshake and picture requests, drops key, pointer and clipboard messages whole', () => {
    const f = new RfbViewFilter();
    const all = Buffer.concat([handshake, encodings, pointer, updateRequest, key, cut, extendedCut, updateRequest]);
    expect(f.push(all)).toEqual(Buffer.concat([handshake, encodings, updateRequest, updateRequest]));
    expect(f.dropped).toBe(4);
  });

  it('holds a message back until it is whole, however the bytes are cut', () => {
    const f = new RfbViewFilter();
    const all = Buffer.concat([handshake, pointer, updateRequest, cut, key, encodings]);
    const out: Buffer[] = [];
    for (const byte of all) out.push(f.push(Buffer.from([byte])));
    expect(Buffer.concat(out)).toEqual(Buffer.concat([handshake, updateRequest, encodings]));
    expect(f.dropped).toBe(3);
  });

  it('ends the connection on an unknown message, a security type other than None, or a huge clipboard', () => {
    expect(() => new RfbViewFilter().push(Buffer.concat([handshake, Buffer.from([255, 0, 0, 0])]))).toThrow(RfbViolation);
    expect(() => new RfbViewFilter().push(Buffer.concat([Buffer.from('RFB 003.008\n'), Buffer.from([2])]))).toThrow(RfbViolation);
    expect(() => new RfbViewFilter().push(Buffer.from('RFB 003.003\n'))).toThrow(RfbViolation);
    expect(() => new RfbViewFilter().push(Buffer.concat([handshake, Buffer.from([6, 0, 0, 0, 0x7f, 0, 0, 0])]))).toThrow(RfbViolation);
  });

  it('cuts the server’s security types down to None, so that the client picks the one handshake it reads', () => {
    const f = new RfbViewFilter();
    // The version passes alone: the server says no more until the client answers it.
    expect(f.fromServer(Buffer.from('RFB 003.008\n', 'latin1'))).toEqual(Buffer.from('RFB 003.008\n', 'latin1'));
    const g = new RfbViewFilter();
    const server = Buffer.concat([Buffer.from('RFB 003.008\n', 'latin1'), Buffer.from([2, 16, 1]), Buffer.from([0, 0, 0, 0])]);
    expect(Buffer.concat([g.fromServer(server.subarray(0, 5)), g.fromServer(server.subarray(5, 14)), g.fromServer(server.subarray(14))])).toEqual(
      Buffer.concat([Buffer.from('RFB 003.008\n', 'latin1'), Buffer.from([1, 1]), Buffer.from([0, 0, 0, 0])]),
    );
    expect(() => new RfbViewFilter().fromServer(Buffer.concat([Buffer.from('RFB 003.008\n', 'latin1'), Buffer.from([1, 16])]))).toThrow(RfbViolation);
  });
});
