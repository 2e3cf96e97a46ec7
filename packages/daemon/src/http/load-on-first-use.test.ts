import { UnavailableError } from '@paddock/core';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loadOnFirstUse } from './load-on-first-use.js';

const logger = pino({ level: 'silent' });

describe('a part loaded on first use', () => {
  it('loads once, however many calls wait for it, and answers later calls without waiting', async () => {
    let loads = 0;
    const part = loadOnFirstUse('a part', async () => {
      loads += 1;
      return { answer: 42 };
    });
    const [a, b] = await Promise.all([part(logger), part(logger)]);
    expect(a).toBe(b);
    expect(loads).toBe(1);
    // Once loaded, the value itself (no promise): the hot path pays nothing after the first call.
    expect(part(logger)).toEqual({ answer: 42 });
  });

  it('a failed load is a typed 503 naming the part, and the next call tries again', async () => {
    let attempts = 0;
    const part = loadOnFirstUse("E2B's envd protocol", async () => {
      attempts += 1;
      if (attempts === 1) throw new Error("Cannot find module '/usr/lib/paddock/envd-server.js'");
      return 'loaded';
    });
    const failed = await Promise.resolve(part(logger)).catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(UnavailableError);
    expect((failed as UnavailableError).toJSON().error).toMatchObject({ code: 'unavailable', details: { part: "E2B's envd protocol" } });
    expect((failed as UnavailableError).status).toBe(503);
    // The cause stays in the daemon's log, not in the answer.
    expect((failed as UnavailableError).message).not.toContain('/usr/lib');
    expect(await part(logger)).toBe('loaded');
  });
});
