import { describe, expect, it } from 'vitest';
import { lastLoggedError } from './oci-runtime.js';

describe('the error a failed runtime call reports', () => {
  it('is runc’s last error line, with what runc init logged as fatal just before it', () => {
    const log = [
      'time="2026-12-05T22:00:00Z" level=error msg="an earlier run failed"',
      'time="2026-12-05T23:00:00Z" level=fatal msg="nsexec-1[42]: failed to unshare remaining namespaces: No space left on device"',
      'time="2026-12-05T23:00:00Z" level=fatal msg="nsexec-0[41]: failed to sync with stage-1: next state"',
      'time="2026-12-05T23:00:00Z" level=error msg="runc run failed: unable to start container process: can\'t get final child\'s PID from pipe: EOF"',
    ].join('\n');
    expect(lastLoggedError(log)).toBe(
      "nsexec-1[42]: failed to unshare remaining namespaces: No space left on device; nsexec-0[41]: failed to sync with stage-1: next state; runc run failed: unable to start container process: can't get final child's PID from pipe: EOF",
    );
    expect(lastLoggedError('time="x" level=error msg="container not found"\n')).toBe('container not found');
  });

  it('is runsc’s last glog problem, or the last line of an unknown log', () => {
    expect(lastLoggedError('I1205 23:00:00.000000  1 main.go:1] starting\nW1205 23:00:00.000000  1 main.go:2] no cgroup\n')).toBe('no cgroup');
    expect(lastLoggedError('something odd\n')).toBe('something odd');
  });
});
