import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { deniedSyscalls, seccompProfile, seccompProfileFor } from './seccomp-profile.js';

// The shape of the container tier's filter. What it does to real programs is
// checked from inside sandboxes by the isolation probes.
const profile = seccompProfile();
const rulesFor = (name: string) => profile.syscalls.filter((r) => r.names.includes(name));
const unconditional = (action: string, errnoRet?: number) =>
  profile.syscalls.filter((r) => r.action === action && r.errnoRet === errnoRet && !r.args).flatMap((r) => r.names);

describe('container seccomp profile', () => {
  it('denies by default with ENOSYS, so libc falls back as on an older kernel', () => {
    expect(profile.defaultAction).toBe('SCMP_ACT_ERRNO');
    expect(profile.defaultErrnoRet).toBe(38);
    expect(profile.architectures).toEqual(['SCMP_ARCH_X86_64']);
  });

  it('refuses the dangerous set with EPERM, and allows none of it', () => {
    expect(unconditional('SCMP_ACT_ERRNO', 1).sort()).toEqual([...deniedSyscalls].sort());
    for (const name of ['bpf', 'io_uring_setup', 'keyctl', 'mount', 'unshare', 'setns', 'userfaultfd', 'perf_event_open']) {
      expect(deniedSyscalls).toContain(name);
    }
    const allowed = new Set(profile.syscalls.filter((r) => r.action === 'SCMP_ACT_ALLOW').flatMap((r) => r.names));
    expect(deniedSyscalls.filter((name) => allowed.has(name))).toEqual([]);
  });

  it('lists every syscall once, except the ones whose arguments decide', () => {
    const names = profile.syscalls.flatMap((r) => r.names);
    const repeated = [...new Set(names.filter((n, i) => names.indexOf(n) !== i))].sort();
    expect(repeated).toEqual(['clone', 'personality', 'socket', 'socketpair']);
    for (const name of repeated) expect(rulesFor(name).every((r) => r.args?.length === 1)).toBe(true);
  });

  it('keeps the calls glibc, Python and Node take on every start', () => {
    const allowed = unconditional('SCMP_ACT_ALLOW');
    for (const name of [
      'rseq',
      'set_robust_list',
      'arch_prctl',
      'statx',
      'faccessat2',
      'close_range',
      'getrandom',
      'futex',
      'epoll_pwait',
      'membarrier',
      'ptrace',
    ]) {
      expect(allowed).toContain(name);
    }
  });

  it('allows clone only without namespace flags, and leaves clone3 to the ENOSYS default', () => {
    const namespaceFlags = 0x7e020000;
    const [allow, ...refusals] = rulesFor('clone');
    expect(allow).toEqual({
      names: ['clone'],
      action: 'SCMP_ACT_ALLOW',
      args: [{ index: 0, value: namespaceFlags, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }],
    });
    // Each refusal needs one namespace flag set, so none overlaps the allow rule.
    expect(refusals.reduce((mask, r) => mask | (r.args?.[0]?.value ?? 0), 0)).toBe(namespaceFlags);
    for (const r of refusals) expect(r).toMatchObject({ action: 'SCMP_ACT_ERRNO', errnoRet: 1 });
    expect(rulesFor('clone3')).toEqual([]);
  });

  it('allows personality only for the Linux ABI values', () => {
    const values = rulesFor('personality').map((r) => (r.action === 'SCMP_ACT_ALLOW' && r.args?.[0]?.op === 'SCMP_CMP_EQ' ? r.args[0].value : -1));
    expect(values.sort((x, y) => x - y)).toEqual([0x0, 0x8, 0x20000, 0x20008, 0xffffffff]);
  });

  it('gives socket every family value exactly one answer', () => {
    const answer = (family: number) =>
      rulesFor('socket')
        .filter((r) => {
          const arg = r.args?.[0];
          return arg?.op === 'SCMP_CMP_EQ' ? arg.value === family : arg?.op === 'SCMP_CMP_GT' && family > arg.value;
        })
        .map((r) => r.errnoRet ?? 'allow');
    for (const family of [1, 2, 10, 16]) expect(answer(family)).toEqual(['allow']);
    for (const family of [0, 3, 15, 17, 38, 40, 44, 2 ** 32]) expect(answer(family)).toEqual([97]);
  });

  it('refuses the x86 socket multiplexer before any socket rule, which libseccomp mirrors onto it', () => {
    const denied = profile.syscalls.findIndex((r) => r.names.includes('socketcall'));
    const firstSocket = profile.syscalls.findIndex((r) => r.names.includes('socket'));
    expect(profile.syscalls[denied]).toMatchObject({ action: 'SCMP_ACT_ERRNO', errnoRet: 1 });
    expect(denied).toBeLessThan(firstSocket);
  });

  it.runIf(existsSync('/usr/include/x86_64-linux-gnu/asm/unistd_64.h'))('names only syscalls x86_64 has, or 32-bit ones libseccomp knows', () => {
    const header = readFileSync('/usr/include/x86_64-linux-gnu/asm/unistd_64.h', 'utf8');
    const known = new Set([...header.matchAll(/#define __NR_(\w+)/g)].map((m) => m[1]));
    const x86Only = ['socketcall', 'stime', 'umount', 'vm86', 'vm86old'];
    const unknown = profile.syscalls.flatMap((r) => r.names).filter((n) => !known.has(n) && !x86Only.includes(n));
    expect(unknown).toEqual([]);
  });
});

describe('a seccomp profile weakened for a test (PADDOCK_TEST_WEAKEN)', () => {
  it('lets the named syscalls through on the tier asked, and changes nothing else', () => {
    for (const tier of ['container', 'gvisor'] as const) {
      const strict = seccompProfileFor(tier);
      const weak = seccompProfileFor(tier, ['keyctl', 'add_key']);
      const rulesNaming = (p: typeof weak, name: string) => p.syscalls.filter((r) => r.names.includes(name));
      for (const name of ['keyctl', 'add_key']) expect(rulesNaming(weak, name)).toEqual([{ names: ['keyctl', 'add_key'], action: 'SCMP_ACT_ALLOW' }]);
      // Every other syscall keeps its rules.
      const others = (p: typeof weak) =>
        p.syscalls.map((r) => ({ ...r, names: r.names.filter((n) => n !== 'keyctl' && n !== 'add_key') })).filter((r) => r.names.length);
      expect(others(weak)).toEqual(others(strict));
      expect(weak.defaultAction).toBe(strict.defaultAction);
    }
  });

  it('is the strict profile when nothing is named', () => {
    expect(seccompProfileFor('container', [])).toEqual(seccompProfile());
  });
});
