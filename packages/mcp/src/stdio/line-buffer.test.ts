import { describe, expect, it } from 'vitest';
import { LineBuffer } from './line-buffer.js';

const frame = (id: number, extra = '') => `${JSON.stringify({ jsonrpc: '2.0', id, method: 'ping', params: { extra } })}\n`;

function drain(buffer: LineBuffer): unknown[] {
  const out: unknown[] = [];
  for (let m = buffer.readMessage(); m !== null; m = buffer.readMessage()) out.push(m);
  return out;
}

describe('LineBuffer (MCP stdio framing)', () => {
  it('gives each message once its line ends, however the bytes were split', () => {
    const text = frame(1) + frame(2, 'x'.repeat(5000)) + frame(3).replace('\n', '\r\n');
    const bytes = Buffer.from(text);
    for (const size of [1, 7, 64, 4096, bytes.length]) {
      const buffer = new LineBuffer(1 << 20);
      const ids: unknown[] = [];
      for (let i = 0; i < bytes.length; i += size) {
        buffer.append(bytes.subarray(i, i + size));
        ids.push(...drain(buffer).map((m) => (m as { id: number }).id));
      }
      expect(ids).toEqual([1, 2, 3]);
    }
  });

  it('keeps a line cut in the middle of a UTF-8 character whole', () => {
    const bytes = Buffer.from(frame(1, 'é✓'));
    const buffer = new LineBuffer(1 << 20);
    const cut = bytes.indexOf(Buffer.from('✓')) + 1;
    buffer.append(bytes.subarray(0, cut));
    expect(buffer.readMessage()).toBeNull();
    buffer.append(bytes.subarray(cut));
    expect(buffer.readMessage()).toMatchObject({ params: { extra: 'é✓' } });
  });

  it('throws once it would hold more than its limit without a line end, and starts afresh', () => {
    const buffer = new LineBuffer(1000);
    buffer.append(Buffer.alloc(600, 'a'));
    expect(() => buffer.append(Buffer.alloc(600, 'a'))).toThrow(/more than 1000 bytes/);
    buffer.append(Buffer.from(frame(9)));
    expect(drain(buffer)).toMatchObject([{ id: 9 }]);
  });

  it('counts complete lines not yet read against the limit, and frees them as they are read', () => {
    const buffer = new LineBuffer(200);
    buffer.append(Buffer.from(frame(1, 'x'.repeat(100))));
    expect(() => buffer.append(Buffer.from(frame(2, 'x'.repeat(100))))).toThrow();
    buffer.append(Buffer.from(frame(3, 'x'.repeat(100))));
    expect(buffer.readMessage()).toMatchObject({ id: 3 });
    buffer.append(Buffer.from(frame(4, 'x'.repeat(100))));
    expect(drain(buffer)).toMatchObject([{ id: 4 }]);
  });

  it('throws for a line that is not JSON-RPC and goes on with the next', () => {
    const buffer = new LineBuffer(1 << 20);
    buffer.append(Buffer.from(`not json\n{"id":1}\n${frame(5)}`));
    expect(() => buffer.readMessage()).toThrow();
    expect(() => buffer.readMessage()).toThrow();
    expect(buffer.readMessage()).toMatchObject({ id: 5 });
    expect(buffer.readMessage()).toBeNull();
  });

  it('reads a flood of lines from one chunk, and a 12 MiB message, whole', () => {
    const buffer = new LineBuffer(64 << 20);
    buffer.append(Buffer.from(Array.from({ length: 100_000 }, (_, i) => frame(i)).join('')));
    expect(drain(buffer)).toHaveLength(100_000);
    const big = Buffer.from(frame(7, 'a'.repeat(12 << 20)));
    for (let i = 0; i < big.length; i += 65_536) buffer.append(big.subarray(i, i + 65_536));
    expect((buffer.readMessage() as unknown as { params: { extra: string } }).params.extra).toHaveLength(12 << 20);
  });
});
