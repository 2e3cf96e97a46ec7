import { describe, expect, it } from 'vitest';
import { loadConfig } from './daemon-config.js';

// PADDOCK_TEST_WEAKEN opens a tier's seccomp filter so the tests can show the
// probes notice. It must not be set by accident where it matters.
describe('PADDOCK_TEST_WEAKEN', () => {
  const stateDir = '/tmp/paddock-weakening-test';

  it('reads seccomp:<tier>:<syscall>+<syscall>, comma-separated', () => {
    const config = loadConfig(['--state-dir', stateDir], { PADDOCK_TEST_WEAKEN: 'seccomp:container:add_key+keyctl, seccomp:gvisor:bpf' });
    expect(config.testWeakening.seccompAllowed).toEqual({ container: ['add_key', 'keyctl'], gvisor: ['bpf'] });
  });

  it('is nothing when unset or empty', () => {
    expect(loadConfig(['--state-dir', stateDir], {}).testWeakening.seccompAllowed).toEqual({});
    expect(loadConfig(['--state-dir', stateDir], { PADDOCK_TEST_WEAKEN: ' ' }).testWeakening.seccompAllowed).toEqual({});
  });

  it('is refused on the production state folder', () => {
    expect(() => loadConfig([], { PADDOCK_TEST_WEAKEN: 'seccomp:container:keyctl' })).toThrow(/refused on \/var\/lib\/paddock/);
    expect(() => loadConfig(['--state-dir', '/var/lib/paddock'], { PADDOCK_TEST_WEAKEN: 'seccomp:container:keyctl' })).toThrow(/refused/);
  });

  it('refuses what it does not understand, naming the variable', () => {
    for (const value of ['seccomp:container', 'seccomp:vm:keyctl', 'caps:container:sys_admin', 'seccomp:container:key ctl']) {
      expect(() => loadConfig(['--state-dir', stateDir], { PADDOCK_TEST_WEAKEN: value }), value).toThrow(/^PADDOCK_TEST_WEAKEN: /);
    }
  });

  it('is no flag: paddockd --help does not offer it', () => {
    expect(() => loadConfig(['--state-dir', stateDir, '--test-weaken', 'seccomp:container:keyctl'], {})).toThrow(/unknown option/);
  });
});
