import type { ExecExit, ExecSession } from '@paddock/engine';
import { describe, expect, it } from 'vitest';
import { HelperSession } from './helper-session.js';

/** A helper whose stdout the test writes, as any process in the sandbox could. */
function fakeHelper() {
  const requests: Array<Record<string, unknown>> = [];
  let end: (exit: ExecExit) => void = () => {};
  const signals: number[] = [];
  const exec: ExecSession = {
    pid: 7,
    exited: new Promise((resolve) => {
      end = resolve;
    }),
    write: async (data) => {
      requests.push(JSON.parse(String(data)));
    },
    closeStdin: () => {},
    signal: (signo) => {
      signals.push(signo);
      end({ exitCode: null, signal: signo } as unknown as ExecExit);
    },
    resize: () => {},
    pause: () => {},
    resume: () => {},
    detach: () => {},
  };
  const session = new HelperSession(exec);
  return {
    session,
    requests,
    signals,
    answer: (header: Record<string, unknown>, payload = '') => session.output(Buffer.from(`${JSON.stringify(header)}\n${payload}`)),
  };
}

describe('desktop helper session', () => {
  it('takes the answer that names its request', async () => {
    const h = fakeHelper();
    const pending = h.session.request({ op: 'cursor' }, 1024, 5_000);
    await Promise.resolve();
    const id = h.requests[0]?.id;
    expect(id).toMatch(/^[0-9a-f]{24}$/);
    h.answer({ len: 5, id }, 'hello');
    await expect(pending).resolves.toMatchObject({ payload: Buffer.from('hello') });
    expect(h.session.broken).toBeUndefined();
  });

  it('S5: a forged answer without the request id (or with a guessed one) is never the answer; the session breaks as spoiled and its helper is killed', async () => {
    for (const forged of [{ len: 6 }, { len: 6, id: '000000000000000000000000' }]) {
      const h = fakeHelper();
      const pending = h.session.request({ op: 'screenshot' }, 1024, 5_000);
      await Promise.resolve();
      h.answer(forged, 'forged');
      await expect(pending).rejects.toMatchObject({ code: 'unavailable' });
      expect(h.session.spoiled).toBe(true);
      expect(h.signals).toEqual([9]);
    }
  });

  it('bytes while nothing was asked, or more than the answer, spoil the session; a timeout breaks it without calling it spoiled', async () => {
    const idle = fakeHelper();
    idle.session.output(Buffer.from('garbage'));
    expect(idle.session.spoiled).toBe(true);
    await expect(idle.session.request({ op: 'cursor' }, 1024, 5_000)).rejects.toMatchObject({ code: 'unavailable' });

    const extra = fakeHelper();
    const pending = extra.session.request({ op: 'cursor' }, 1024, 5_000);
    await Promise.resolve();
    extra.answer({ len: 2, id: extra.requests[0]?.id }, 'okMORE');
    await expect(pending).rejects.toThrow(/more than its answer/);

    const slow = fakeHelper();
    await expect(slow.session.request({ op: 'cursor' }, 1024, 20)).rejects.toThrow(/did not answer within 20 ms/);
    expect(slow.session.spoiled).toBe(false);
  });
});
