import { describe, expect, it } from 'vitest';
import type { AuditLog, AuditRecord } from './audit-log.js';
import { FailedAuthRecorder } from './failed-auth-recorder.js';

describe('refused authentications in the audit log', () => {
  it('are recorded up to a rate, and what was dropped is counted in the next record', () => {
    const records: AuditRecord[] = [];
    const audit = { append: (r: AuditRecord) => records.push(r) } as unknown as AuditLog;
    let now = 0;
    const recorder = new FailedAuthRecorder(audit, 3, () => now);
    for (let i = 0; i < 10; i++) recorder.record({ requestId: `r${i}`, method: 'GET', path: '/v1/sandboxes', presented: i % 2 === 0 });
    expect(records).toHaveLength(3);
    expect(records[0]).toMatchObject({
      principal: 'anonymous',
      action: 'auth.authenticate',
      decision: 'deny',
      outcome: 'unauthorized',
      details: { token: 'invalid' },
    });
    expect(records[1]?.details.token).toBe('missing');
    now += 60_000;
    recorder.record({ requestId: 'late', method: 'POST', path: '/v1/tokens', presented: true });
    expect(records).toHaveLength(4);
    expect(records[3]?.details).toMatchObject({ notRecordedBefore: 7, path: '/v1/tokens' });
  });
});
