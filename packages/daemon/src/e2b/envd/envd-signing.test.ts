import { describe, expect, it } from 'vitest';
import { EnvdKeyRing, signature } from './envd-signing.js';

const read = (path: string, token: string, expiration?: number) => {
  const unsigned = { path, operation: 'read' as const, user: '', expiration };
  return { ...unsigned, signature: signature(unsigned, token) };
};

describe('the envd key ring (signed file URLs)', () => {
  it('finds the sandbox whose token signed a URL, named or not, until the URL expires', () => {
    const ring = new EnvdKeyRing();
    ring.remember('sb-aaaaaaaaaaaa', 'pdk_one');
    ring.remember('sb-bbbbbbbbbbbb', 'pdk_two');
    expect(ring.verify(read('/x', 'pdk_two'), undefined)).toEqual({ sandboxId: 'sb-bbbbbbbbbbbb', token: 'pdk_two' });
    expect(ring.verify(read('/x', 'pdk_two'), 'sb-aaaaaaaaaaaa')).toBeUndefined();
    expect(ring.verify(read('/x', 'pdk_unknown'), undefined)).toBeUndefined();
    const now = Date.now();
    expect(ring.verify(read('/x', 'pdk_one', Math.floor(now / 1000) + 60), undefined, now)?.sandboxId).toBe('sb-aaaaaaaaaaaa');
    expect(ring.verify(read('/x', 'pdk_one', Math.floor(now / 1000) - 1), undefined, now)).toBeUndefined();
    ring.forget('sb-aaaaaaaaaaaa');
    expect(ring.verify(read('/x', 'pdk_one'), undefined)).toBeUndefined();
  });

  it('keeps a bounded number of tokens, the least recently used going first', () => {
    const ring = new EnvdKeyRing();
    for (let i = 0; i < 5000; i++) ring.remember(`sb-${String(i).padStart(12, '0')}`, `pdk_${i}`);
    expect(ring.verify(read('/x', 'pdk_0'), undefined)).toBeUndefined();
    expect(ring.verify(read('/x', 'pdk_4999'), undefined)?.sandboxId).toBe('sb-000000004999');
  });
});
