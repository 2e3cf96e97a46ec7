/**
 * Every isolation setting of the container tier in one place, so a reviewer can
 * read the whole security boundary at once. The bundle generator is the only
 * consumer; nothing else decides what a sandbox may do.
 */

/** Root inside maps to this unprivileged host uid/gid range (Docker's userns-remap style). */
export const idMapping = { hostId: 100_000, size: 65_536 } as const;

/** The unprivileged account every template has, as E2B users expect. */
export const sandboxUser = { name: 'user', uid: 1000, gid: 1000, home: '/home/user' } as const;

/**
 * Capabilities of root inside the sandbox, all relative to the sandbox's own
 * user namespace. Enough for package managers and for the agent to switch to
 * the unprivileged user; no SYS_ADMIN, NET_ADMIN, NET_RAW, MKNOD, SYS_PTRACE.
 */
export const sandboxCapabilities = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
] as const;

/** Kernel interfaces hidden behind an empty file or directory. */
export const maskedPaths = [
  '/proc/acpi',
  '/proc/asound',
  '/proc/interrupts',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/sys/devices/virtual/powercap',
  // Block devices the sandbox has no use for; a loop device's backing_file names the host path of a volume's image.
  '/sys/devices/virtual/block',
  '/sys/firmware',
] as const;

/** Kernel interfaces that stay visible but cannot be written (uid 0 checks alone guard /proc/sys). */
export const readonlyPaths = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'] as const;

export const rlimits = [
  { type: 'RLIMIT_NOFILE', soft: 4096, hard: 4096 },
  { type: 'RLIMIT_CORE', soft: 0, hard: 0 },
] as const;

/** Size of the tmpfs backing /dev/shm, in MiB. */
export const shmSizeMiB = 64;

/** Sandbox processes are the first the host kernel kills when the whole machine runs out of memory. */
export const oomScoreAdj = 500;

/** Where Paddock's own files appear inside a sandbox. */
export const agentPaths = {
  binDir: '/.paddock/bin',
  runDir: '/.paddock/run',
  socket: '/.paddock/run/agent.sock',
  egressSocket: '/.paddock/run/egress.sock',
} as const;

/**
 * Flags of the rootfs overlay as mounted on the host: the host must never run
 * a setuid file a sandbox planted, nor open a device node it made.
 */
export const hostRootfsMountFlags = ['nosuid', 'nodev'] as const;

/** Isolation tiers, weakest first; a request never gets a tier below the operator's minimum. */
export const tierStrength = { container: 0, gvisor: 1 } as const;

/**
 * runsc's settings for the gVisor tier. Only the ptrace platform works on
 * hosts without usable KVM; runsc's network stack has loopback only (no
 * device of the host's); the sandbox may create the agent's host socket and
 * connect to the daemon's egress socket, both in its own run folder, the only
 * host sockets its mounts show (--host-uds=all); its writes
 * go through the gofer into the same size-limited overlay as the container
 * tier's instead of gVisor's in-memory overlay; and the bundle's seccomp
 * profile is enforced inside the sandbox kernel too.
 */
export const gvisorRuntimeFlags = ['--platform=ptrace', '--network=none', '--host-uds=all', '--overlay2=none', '--oci-seccomp'] as const;

/**
 * gVisor's kernel (the sentry and its gofer) runs as host threads inside the
 * sandbox's pids cgroup: the host limit has this much room on top of the
 * sandbox's own process limit, so the sandbox's processes, not the sentry's
 * threads, are what hits it first.
 */
export const gvisorPidsHeadroom = 512;

/**
 * Flags of `runc run`. Every sandbox's root is the same host uid, and the
 * kernel allows each uid only so many keys (kernel.keys.maxkeys, 200 by
 * default): a new session keyring per container would cap a host at ~200
 * sandboxes. The sandbox cannot use keyrings anyway (keyctl, add_key and
 * request_key are refused by seccomp, /proc/keys is masked).
 */
export const runcRunFlags = ['--no-new-keyring'] as const;
