import type { Tier } from '@paddock/core';

/**
 * The seccomp filter of the container tier: default deny. A syscall runs only
 * if a rule below allows it; anything unlisted, including syscalls newer than
 * this list, fails with ENOSYS, the answer of a kernel that lacks it, so libc
 * and runtimes take the fallback they already have for older kernels.
 *
 * The allowlist is what glibc, Python, Node, git, apt/dpkg, gcc, curl, bash,
 * coreutils and procps use on x86_64, grouped by purpose. Syscalls that reach
 * kernel surfaces a sandbox never needs (modules, kexec, BPF, perf, keyrings,
 * mounts, clocks, swap, nested namespaces) get an explicit EPERM instead, so a
 * probe reads "Operation not permitted" rather than a missing feature.
 *
 * Rules for one syscall with different actions never overlap: which one wins
 * where two match is left unspecified by libseccomp.
 */

const EPERM = 1;
const ENOSYS = 38;
const EAFNOSUPPORT = 97;

type CompareOp = 'SCMP_CMP_NE' | 'SCMP_CMP_LT' | 'SCMP_CMP_LE' | 'SCMP_CMP_EQ' | 'SCMP_CMP_GE' | 'SCMP_CMP_GT' | 'SCMP_CMP_MASKED_EQ';

interface SeccompArg {
  index: number;
  /** The datum; for SCMP_CMP_MASKED_EQ the mask. */
  value: number;
  /** For SCMP_CMP_MASKED_EQ the datum the masked argument must equal; else unused. */
  valueTwo: number;
  op: CompareOp;
}

interface SeccompRule {
  names: string[];
  action: string;
  errnoRet?: number;
  /** Conditions of one rule are ANDed; separate rules are ORed. */
  args?: SeccompArg[];
}

export interface SeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures: string[];
  syscalls: SeccompRule[];
}

/** Fail with EPERM whatever the arguments: no sandbox workload needs them. */
export const deniedSyscalls = [
  'acct',
  'add_key',
  'adjtimex',
  'bpf',
  'clock_adjtime',
  'clock_settime',
  'create_module',
  'delete_module',
  'fanotify_init',
  'fanotify_mark',
  'finit_module',
  'fsconfig',
  'fsmount',
  'fsopen',
  'fspick',
  'get_kernel_syms',
  'init_module',
  'ioperm',
  'io_uring_enter',
  'io_uring_register',
  'io_uring_setup',
  'iopl',
  'kcmp',
  'kexec_file_load',
  'kexec_load',
  'keyctl',
  'lookup_dcookie',
  'mount',
  'mount_setattr',
  'move_mount',
  'name_to_handle_at',
  'nfsservctl',
  'open_by_handle_at',
  'open_tree',
  'perf_event_open',
  'pivot_root',
  'process_vm_readv',
  'process_vm_writev',
  'query_module',
  'quotactl',
  'quotactl_fd',
  'reboot',
  'request_key',
  'setns',
  // The 32-bit socket multiplexer: its arguments sit in memory, out of the
  // family rules' reach. 32-bit programs keep the direct socket syscalls.
  'socketcall',
  'settimeofday',
  'stime',
  'swapoff',
  'swapon',
  'syslog',
  'umount',
  'umount2',
  'unshare',
  'uselib',
  'userfaultfd',
  'ustat',
  'vhangup',
  'vm86',
  'vm86old',
] as const;

/**
 * Allowed whatever the arguments. Syscalls with argument rules (clone,
 * personality, socket, socketpair) are further down.
 */
const allowedSyscallGroups = {
  // Paths, directories, metadata and links, old and *at forms: static and
  // older binaries still use open/stat/access; chroot is backed by
  // CAP_SYS_CHROOT; mknod makes FIFOs and sockets only, as CAP_MKNOD is not
  // granted and the device cgroup refuses every device.
  files: [
    'access',
    'chdir',
    'chmod',
    'chown',
    'chroot',
    'creat',
    'faccessat',
    'faccessat2',
    'fchdir',
    'fchmod',
    'fchmodat',
    'fchown',
    'fchownat',
    'fstat',
    'fstatfs',
    'futimesat',
    'getcwd',
    'getdents',
    'getdents64',
    'lchown',
    'link',
    'linkat',
    'lstat',
    'mkdir',
    'mkdirat',
    'mknod',
    'mknodat',
    'newfstatat',
    'open',
    'openat',
    'openat2',
    'readlink',
    'readlinkat',
    'rename',
    'renameat',
    'renameat2',
    'rmdir',
    'stat',
    'statfs',
    'statx',
    'symlink',
    'symlinkat',
    'truncate',
    'umask',
    'unlink',
    'unlinkat',
    'utime',
    'utimensat',
    'utimes',
  ],
  // Extended attributes: cp -a, tar --xattrs and ls read or copy them.
  xattrs: [
    'fgetxattr',
    'flistxattr',
    'fremovexattr',
    'fsetxattr',
    'getxattr',
    'lgetxattr',
    'listxattr',
    'llistxattr',
    'lremovexattr',
    'lsetxattr',
    'removexattr',
    'setxattr',
  ],
  // Reading, writing and moving data between descriptors, including the
  // zero-copy paths coreutils and Node take (copy_file_range, sendfile, splice).
  fileDescriptors: [
    'close',
    'close_range',
    'copy_file_range',
    'dup',
    'dup2',
    'dup3',
    'fadvise64',
    'fallocate',
    'fcntl',
    'fdatasync',
    'flock',
    'fsync',
    'ftruncate',
    'ioctl',
    'lseek',
    'pipe',
    'pipe2',
    'pread64',
    'preadv',
    'preadv2',
    'pwrite64',
    'pwritev',
    'pwritev2',
    'read',
    'readahead',
    'readv',
    'sendfile',
    'splice',
    'sync',
    'sync_file_range',
    'syncfs',
    'tee',
    'vmsplice',
    'write',
    'writev',
  ],
  // Classic AIO (libaio, databases); io_uring is refused above.
  asyncIo: ['io_cancel', 'io_destroy', 'io_getevents', 'io_pgetevents', 'io_setup', 'io_submit'],
  // Event loops of Node, Python asyncio and friends. fanotify is refused above.
  polling: [
    'epoll_create',
    'epoll_create1',
    'epoll_ctl',
    'epoll_pwait',
    'epoll_pwait2',
    'epoll_wait',
    'eventfd',
    'eventfd2',
    'inotify_add_watch',
    'inotify_init',
    'inotify_init1',
    'inotify_rm_watch',
    'poll',
    'ppoll',
    'pselect6',
    'select',
    'signalfd',
    'signalfd4',
    'timerfd_create',
    'timerfd_gettime',
    'timerfd_settime',
  ],
  // Address space of the caller only. mlock is bounded by RLIMIT_MEMLOCK;
  // memfd_create backs JIT code and shared buffers; pkeys protect own pages.
  memory: [
    'brk',
    'madvise',
    'membarrier',
    'memfd_create',
    'mincore',
    'mlock',
    'mlock2',
    'mlockall',
    'mmap',
    'mprotect',
    'mremap',
    'msync',
    'munlock',
    'munlockall',
    'munmap',
    'pkey_alloc',
    'pkey_free',
    'pkey_mprotect',
  ],
  // Process and thread life cycle and identity, and what glibc sets up in
  // every thread (TLS, robust futexes, rseq). clone is further down.
  processes: [
    'arch_prctl',
    'execve',
    'execveat',
    'exit',
    'exit_group',
    'fork',
    'futex',
    'futex_waitv',
    'get_robust_list',
    'get_thread_area',
    'getcpu',
    'getpgid',
    'getpgrp',
    'getpid',
    'getppid',
    'getrusage',
    'getsid',
    'gettid',
    'prctl',
    'restart_syscall',
    'rseq',
    'set_robust_list',
    'set_thread_area',
    'set_tid_address',
    'setpgid',
    'setsid',
    'sysinfo',
    'times',
    'uname',
    'vfork',
    'wait4',
    'waitid',
  ],
  // The private pid namespace bounds what these reach. Without CAP_SYS_PTRACE
  // ptrace follows the usual same-uid rules, so gdb and strace work on the
  // sandbox's own processes; pidfd_getfd needs the same ptrace permission.
  processControl: ['pidfd_getfd', 'pidfd_open', 'pidfd_send_signal', 'ptrace'],
  // Signal handling and delivery.
  signals: [
    'alarm',
    'getitimer',
    'kill',
    'pause',
    'rt_sigaction',
    'rt_sigpending',
    'rt_sigprocmask',
    'rt_sigqueueinfo',
    'rt_sigreturn',
    'rt_sigsuspend',
    'rt_sigtimedwait',
    'rt_tgsigqueueinfo',
    'setitimer',
    'sigaltstack',
    'tgkill',
    'tkill',
  ],
  // Reading clocks, sleeping and timers; setting a clock is refused above.
  time: [
    'clock_getres',
    'clock_gettime',
    'clock_nanosleep',
    'gettimeofday',
    'nanosleep',
    'time',
    'timer_create',
    'timer_delete',
    'timer_getoverrun',
    'timer_gettime',
    'timer_settime',
  ],
  // Everything after socket creation. Which families a socket may have is
  // decided further down; where it can connect is decided by the network
  // namespace.
  sockets: [
    'accept',
    'accept4',
    'bind',
    'connect',
    'getpeername',
    'getsockname',
    'getsockopt',
    'listen',
    'recvfrom',
    'recvmmsg',
    'recvmsg',
    'sendmmsg',
    'sendmsg',
    'sendto',
    'setsockopt',
    'shutdown',
  ],
  // System V IPC and POSIX message queues stay inside the private IPC namespace.
  ipc: [
    'mq_getsetattr',
    'mq_notify',
    'mq_open',
    'mq_timedreceive',
    'mq_timedsend',
    'mq_unlink',
    'msgctl',
    'msgget',
    'msgrcv',
    'msgsnd',
    'semctl',
    'semget',
    'semop',
    'semtimedop',
    'shmat',
    'shmctl',
    'shmdt',
    'shmget',
  ],
  // Priorities and CPU placement. Raising a priority needs CAP_SYS_NICE, which
  // is not granted; the cgroup's CPU quota holds whatever the priority.
  scheduling: [
    'getpriority',
    'ioprio_get',
    'ioprio_set',
    'sched_get_priority_max',
    'sched_get_priority_min',
    'sched_getaffinity',
    'sched_getattr',
    'sched_getparam',
    'sched_getscheduler',
    'sched_rr_get_interval',
    'sched_setaffinity',
    'sched_setattr',
    'sched_setparam',
    'sched_setscheduler',
    'sched_yield',
    'setpriority',
  ],
  // Raising a hard limit needs CAP_SYS_RESOURCE, which is not granted.
  resourceLimits: ['getrlimit', 'prlimit64', 'setrlimit'],
  // Switching users (the agent, su, apt's _apt user) and dropping
  // capabilities; all within the sandbox's user namespace.
  credentials: [
    'capget',
    'capset',
    'getegid',
    'geteuid',
    'getgid',
    'getgroups',
    'getresgid',
    'getresuid',
    'getuid',
    'setfsgid',
    'setfsuid',
    'setgid',
    'setgroups',
    'setregid',
    'setresgid',
    'setresuid',
    'setreuid',
    'setuid',
  ],
  // Programs that confine themselves further: their own seccomp filters
  // (needs no_new_privs, which every sandbox process has) and Landlock rules.
  selfSandboxing: ['landlock_add_rule', 'landlock_create_ruleset', 'landlock_restrict_self', 'seccomp'],
  // getrandom seeds malloc, Python and OpenSSL. The UTS namespace is private,
  // and renaming it still takes CAP_SYS_ADMIN, which root here lacks.
  misc: ['getrandom', 'setdomainname', 'sethostname'],
} as const;

const allowedSyscalls: readonly string[] = Object.values(allowedSyscallGroups).flat();

/** clone() flags that create namespaces. */
const namespaceCloneFlags = {
  CLONE_NEWNS: 0x00020000,
  CLONE_NEWCGROUP: 0x02000000,
  CLONE_NEWUTS: 0x04000000,
  CLONE_NEWIPC: 0x08000000,
  CLONE_NEWUSER: 0x10000000,
  CLONE_NEWPID: 0x20000000,
  CLONE_NEWNET: 0x40000000,
} as const;

const anyNamespaceFlag = Object.values(namespaceCloneFlags).reduce((mask, flag) => mask | flag, 0);

/** The refusals both tiers share: the dangerous set outright, and clone() with any namespace flag (one rule per flag: rules are ORed). */
const refusedOutright: SeccompRule = { names: [...deniedSyscalls], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM };
const namespaceCloneRefusals: SeccompRule[] = Object.values(namespaceCloneFlags).map((flag) => ({
  names: ['clone'],
  action: 'SCMP_ACT_ERRNO',
  errnoRet: EPERM,
  args: [{ index: 0, value: flag, valueTwo: flag, op: 'SCMP_CMP_MASKED_EQ' }],
}));

/**
 * x86_64 only: a 32-bit (int 0x80) or x32 syscall is of a foreign
 * architecture, and the filter kills the thread that makes it. Listing x86
 * and x32 too would let 32-bit code run, and compiling the filter for three
 * architectures costs runc ~20 ms on every sandbox start.
 */
const architectures = ['SCMP_ARCH_X86_64'];

/**
 * personality() values that keep the Linux ABI: PER_LINUX, PER_LINUX32 (as
 * `linux32` sets it), UNAME26, both together, and 0xffffffff, which only reads
 * the current one. Others (ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC, foreign ABIs) get ENOSYS
 * from the default action: listing "every other value" takes dozens of masked
 * rules, and overlapping ones are unspecified.
 */
const allowedPersonalities = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff] as const;

const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;
const AF_NETLINK = 16;

/**
 * Address families the workload needs: local sockets, IPv4, IPv6, and netlink
 * for `ip` and glibc's getaddrinfo. Every other family (packet, vsock, alg,
 * tipc, …) is kernel code no sandbox needs.
 */
const socketFamilies = [AF_UNIX, AF_INET, AF_INET6, AF_NETLINK] as const;
/** The kernel makes socket pairs for AF_UNIX and AF_TIPC only; TIPC is not for us. */
const socketPairFamilies = [AF_UNIX] as const;

const argEquals = (index: number, value: number): SeccompArg => ({ index, value, valueTwo: 0, op: 'SCMP_CMP_EQ' });

/**
 * Rules that allow `name` for the given address families (argument 0) and
 * answer EAFNOSUPPORT, as a kernel without the family would, for every other
 * value: each one up to the highest allowed family, then all above it.
 */
function familyRules(name: string, allowed: readonly number[]): SeccompRule[] {
  const highest = Math.max(...allowed);
  const refused = Array.from({ length: highest + 1 }, (_, family) => family).filter((f) => !allowed.includes(f));
  return [
    ...allowed.map((family) => ({ names: [name], action: 'SCMP_ACT_ALLOW', args: [argEquals(0, family)] })),
    ...refused.map((family) => ({ names: [name], action: 'SCMP_ACT_ERRNO', errnoRet: EAFNOSUPPORT, args: [argEquals(0, family)] })),
    {
      names: [name],
      action: 'SCMP_ACT_ERRNO',
      errnoRet: EAFNOSUPPORT,
      args: [{ index: 0, value: highest, valueTwo: 0, op: 'SCMP_CMP_GT' }],
    },
  ];
}

export function seccompProfile(): SeccompProfile {
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: ENOSYS,
    architectures: [...architectures],
    syscalls: [
      // First: were x86 listed, libseccomp would turn its socket rules into
      // socketcall rules too, and those must find socketcall already refused
      // outright, or the allow and EAFNOSUPPORT rules of one family collide.
      refusedOutright,
      { names: [...allowedSyscalls], action: 'SCMP_ACT_ALLOW' },
      // Threads and processes, but no new namespaces: those flags are refused.
      // clone3 is not listed: it passes its flags in memory seccomp cannot
      // read, and the default ENOSYS makes glibc fall back to clone. (An
      // explicit ENOSYS rule would equal the default action, which runc skips.)
      {
        names: ['clone'],
        action: 'SCMP_ACT_ALLOW',
        args: [{ index: 0, value: anyNamespaceFlag, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }],
      },
      ...namespaceCloneRefusals,
      ...allowedPersonalities.map((persona) => ({
        names: ['personality'],
        action: 'SCMP_ACT_ALLOW',
        args: [argEquals(0, persona)],
      })),
      ...familyRules('socket', socketFamilies),
      ...familyRules('socketpair', socketPairFamilies),
    ],
  };
}

/**
 * The seccomp profile of a tier. The container tier gets the default-deny
 * allowlist: its syscalls reach the host kernel. Under gVisor they reach the
 * sandbox's own kernel (the sentry), which implements a subset and answers
 * ENOSYS for the rest, keeping libc's fallbacks working; this runsc build
 * ignores errnoRet and would answer EPERM to anything a default-deny filter
 * refused (glibc's clone3 → clone fallback then breaks thread creation). So
 * the gVisor profile allows by default and refuses the same dangerous set.
 */
export function seccompProfileFor(tier: Tier, testAllowed: readonly string[] = []): SeccompProfile {
  const profile =
    tier === 'container'
      ? seccompProfile()
      : { defaultAction: 'SCMP_ACT_ALLOW', architectures: [...architectures], syscalls: [refusedOutright, ...namespaceCloneRefusals] };
  return testAllowed.length ? weakenedForTest(profile, testAllowed) : profile;
}

/**
 * The profile with the named syscalls taken out of every rule and allowed
 * outright: a deliberately broken filter, so a test (and `paddock check`)
 * can show that the probes notice. Only PADDOCK_TEST_WEAKEN asks for it.
 */
function weakenedForTest(profile: SeccompProfile, allowed: readonly string[]): SeccompProfile {
  const syscalls = profile.syscalls
    .map((rule) => ({ ...rule, names: rule.names.filter((name) => !allowed.includes(name)) }))
    .filter((rule) => rule.names.length > 0);
  return { ...profile, syscalls: [...syscalls, { names: [...allowed], action: 'SCMP_ACT_ALLOW' }] };
}
