import { existsSync, readFileSync, statSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import type { CheckItem, Tier } from '@paddock/core';
import { gvisorRuntimeFlags, runHostCommand } from '@paddock/engine';
import type { DaemonConfig } from '../config/daemon-config.js';
import { isWeakened } from '../config/test-weakening.js';

export interface HostFactsDeps {
  config: DaemonConfig;
  /** The tiers this daemon runs. */
  tiers: readonly Tier[];
  /** Where kernel files are read from: `/` on a real host (tests may point elsewhere). */
  root?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

const cgroupControllersNeeded = ['cpu', 'memory', 'pids'];

/** The facts of this host isolation rests on, each judged as `paddock check` shows it. */
export async function hostFacts(deps: HostFactsDeps): Promise<CheckItem[]> {
  const read = (path: string) => readText(join(deps.root ?? '/', path));
  const [runc, runsc] = await Promise.all([
    versionOf(deps.config.runcBinary, deps),
    deps.tiers.includes('gvisor') ? versionOf(deps.config.runscBinary, deps) : Promise.resolve(undefined),
  ]);
  return [
    { id: 'host.kernel', title: 'kernel', status: 'info', detail: `Linux ${release()}` },
    cgroupItem(deps.root ?? '/'),
    userNamespaceItem(read('proc/sys/user/max_user_namespaces'), read('proc/sys/kernel/unprivileged_userns_clone')),
    seccompItem(read('proc/sys/kernel/seccomp/actions_avail')),
    lsmItem('host.landlock', 'Landlock', read('sys/kernel/security/lsm'), 'landlock'),
    lsmItem(
      'host.apparmor',
      'AppArmor',
      read('sys/kernel/security/lsm') ?? (read('sys/module/apparmor/parameters/enabled') === 'Y' ? 'apparmor' : undefined),
      'apparmor',
    ),
    runc
      ? { id: 'host.runc', title: 'runc (container tier)', status: 'ok', detail: runc }
      : {
          id: 'host.runc',
          title: 'runc (container tier)',
          status: 'fail',
          detail: `${deps.config.runcBinary} does not run`,
          advice: 'install runc (make deps)',
        },
    runsc
      ? { id: 'host.runsc', title: 'runsc (gvisor tier)', status: 'ok', detail: `${runsc}; ${runscPlatform()}` }
      : {
          id: 'host.runsc',
          title: 'runsc (gvisor tier)',
          status: 'warn',
          detail: 'not installed: the gvisor tier is unavailable',
          advice: 'install runsc (make deps) to offer the gvisor tier for untrusted code',
        },
    stateDirItem(deps.config.stateDir),
    weakeningItem(deps.config),
  ];
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

async function versionOf(binary: string, deps: HostFactsDeps): Promise<string | undefined> {
  try {
    const { stdout } = await runHostCommand(binary, ['--version'], { timeoutMs: deps.timeoutMs ?? 10_000, signal: deps.signal });
    return stdout.split('\n')[0]?.trim() || undefined;
  } catch {
    return undefined;
  }
}

function runscPlatform(): string {
  const platform = gvisorRuntimeFlags.find((f) => f.startsWith('--platform='))?.slice('--platform='.length) ?? 'default';
  return `platform ${platform}`;
}

function cgroupItem(root: string): CheckItem {
  const title = 'cgroups';
  const unified = readText(join(root, 'sys/fs/cgroup/cgroup.controllers'));
  if (unified !== undefined) {
    const present = unified.split(/\s+/).filter(Boolean);
    const missing = cgroupControllersNeeded.filter((c) => !present.includes(c));
    if (missing.length) {
      return {
        id: 'host.cgroup',
        title,
        status: 'fail',
        detail: `v2, controllers ${present.join(' ')}; missing ${missing.join(', ')}`,
        advice: 'enable the missing controllers: limits are not enforced without them',
      };
    }
    return { id: 'host.cgroup', title, status: 'ok', detail: `v2, controllers ${present.join(' ')}` };
  }
  // cgroup v1 (or hybrid): limits hold when each controller has its hierarchy.
  const v1 = cgroupControllersNeeded.filter((c) => existsSync(join(root, 'sys/fs/cgroup', c, 'tasks')));
  const missing = cgroupControllersNeeded.filter((c) => !v1.includes(c));
  if (missing.length) {
    return {
      id: 'host.cgroup',
      title,
      status: 'fail',
      detail: `no cgroup v2; v1 lacks ${missing.join(', ')}`,
      advice: 'boot with cgroup v2 (systemd.unified_cgroup_hierarchy=1): limits are not enforced without these controllers',
    };
  }
  return {
    id: 'host.cgroup',
    title,
    status: 'warn',
    detail: `v1 (no unified hierarchy); controllers ${v1.join(' ')} mounted`,
    advice: 'limits hold on v1, but v2 is what the kernel maintains (and accounts memory more strictly): boot with systemd.unified_cgroup_hierarchy=1',
  };
}

function userNamespaceItem(max: string | undefined, unprivileged: string | undefined): CheckItem {
  const title = 'user namespaces';
  if (max === undefined || Number(max) === 0) {
    return {
      id: 'host.userns',
      title,
      status: 'fail',
      detail: `user.max_user_namespaces = ${max ?? 'absent'}`,
      advice: 'sandboxes map root to an unprivileged uid in a user namespace: allow them (sysctl user.max_user_namespaces)',
    };
  }
  const hostUsers = unprivileged === undefined ? '' : `; kernel.unprivileged_userns_clone = ${unprivileged}`;
  // Sandboxes cannot make namespaces (seccomp refuses it); unprivileged host users can when that sysctl is 1.
  return { id: 'host.userns', title, status: 'ok', detail: `user.max_user_namespaces = ${max}${hostUsers}` };
}

function seccompItem(actions: string | undefined): CheckItem {
  const title = 'seccomp';
  if (actions === undefined) {
    return {
      id: 'host.seccomp',
      title,
      status: 'fail',
      detail: 'the kernel offers no seccomp filters',
      advice: 'use a kernel built with CONFIG_SECCOMP_FILTER',
    };
  }
  const needed = ['errno', 'kill_thread', 'allow'];
  const missing = needed.filter((a) => !actions.split(/\s+/).includes(a));
  if (missing.length) {
    return {
      id: 'host.seccomp',
      title,
      status: 'fail',
      detail: `actions ${actions}; missing ${missing.join(', ')}`,
      advice: 'use a kernel whose seccomp offers these actions (Linux 4.14 or later)',
    };
  }
  return { id: 'host.seccomp', title, status: 'ok', detail: `filter actions: ${actions}` };
}

function lsmItem(id: string, title: string, lsm: string | undefined, name: string): CheckItem {
  const active = (lsm ?? '').split(',').includes(name);
  // Neither is something Paddock's isolation relies on: a fact for the reviewer, not a verdict.
  return { id, title, status: 'info', detail: active ? `active (LSMs: ${lsm})` : lsm === undefined ? 'unknown (securityfs not mounted)' : 'not active' };
}

function stateDirItem(stateDir: string): CheckItem {
  const title = 'state folder permissions';
  const modes: string[] = [];
  const problems: string[] = [];
  const check = (path: string, tooOpen: number, what: string) => {
    try {
      const st = statSync(path);
      const mode = st.mode & 0o7777;
      modes.push(`${what} ${mode.toString(8).padStart(4, '0')} uid ${st.uid}`);
      if (mode & tooOpen) problems.push(`${what} is ${mode.toString(8)}`);
      if (st.uid !== 0 && process.getuid?.() === 0) problems.push(`${what} is owned by uid ${st.uid}, not root`);
    } catch {
      // A file not made yet (no sandbox so far) is not a finding.
    }
  };
  check(stateDir, 0o022, stateDir);
  check(join(stateDir, 'token'), 0o077, 'token');
  check(join(stateDir, 'paddock.db'), 0o077, 'paddock.db');
  check(join(stateDir, 'secrets.key'), 0o077, 'secrets.key');
  if (problems.length) {
    return { id: 'host.state-dir', title, status: 'fail', detail: problems.join('; '), advice: `chmod 0711 ${stateDir} and 0600 its token, database and keys` };
  }
  return { id: 'host.state-dir', title, status: 'ok', detail: modes.join('; ') };
}

function weakeningItem(config: DaemonConfig): CheckItem {
  const title = 'test weakening (PADDOCK_TEST_WEAKEN)';
  if (!isWeakened(config.testWeakening)) return { id: 'host.test-weakening', title, status: 'ok', detail: 'none' };
  const allowed = Object.entries(config.testWeakening.seccompAllowed).map(([tier, names]) => `${tier}: seccomp lets ${names?.join(', ')} through`);
  return {
    id: 'host.test-weakening',
    title,
    status: 'fail',
    detail: allowed.join('; '),
    advice: 'a test setting weakens isolation: restart paddockd without PADDOCK_TEST_WEAKEN',
  };
}
