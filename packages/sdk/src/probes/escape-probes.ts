import { allTiers, bothUsers, clip, type Probe, py, sh, Verdict, who } from './probe.js';

// Section A (and K) of docs/security-probes.md: getting out of the sandbox or
// reaching past it, as root and as the unprivileged user inside.

const processes: Probe = {
  id: 'A1',
  title: 'list processes through ps and /proc: only the sandbox’s own, PID 1 its init',
  class: 'escape',
  tiers: allTiers,
  async run(ctx) {
    // Its own sandbox: another probe's commands in a shared one would be listed too.
    const sbx = await ctx.create();
    const v = new Verdict();
    // The sandbox's init: tini on the container tier; under gVisor the agent itself (gVisor reaps its orphans).
    const init = ctx.tier === 'container' ? '1 tini' : '1 paddock-agent';
    for (const user of bothUsers) {
      const lines = (await sh(sbx, 'ps -eo pid=,comm= | sort -n', user)).stdout
        .trim()
        .split('\n')
        .map((l) => l.trim());
      v.expect(lines[0] === init, `as ${who(user)} PID 1 is "${lines[0]}", not "${init}"`);
      // paddock-egress: the relay that takes the sandbox's connections to the daemon's egress proxy.
      const foreign = lines.filter((l) => !/^(\d+) (tini|paddock-agent|paddock-egress|sh|ps|sort)$/.test(l));
      v.expect(foreign.length === 0, `as ${who(user)} sees ${clip(foreign.join(', '))}`);
    }
    return v.held(`only ${init} and the probe's own processes are visible`);
  },
};

const capabilities: Probe = {
  id: 'A4',
  title: 'use capabilities: mount, insmod, reboot, swapon, settimeofday, mknod',
  class: 'escape',
  tiers: allTiers,
  async run(ctx) {
    const sbx = await ctx.shared();
    const v = new Verdict();
    const user = (await sh(sbx, 'grep -E "^Cap(Eff|Prm)" /proc/self/status', 'user')).stdout;
    v.expect(user === 'CapPrm:\t0000000000000000\nCapEff:\t0000000000000000\n', `the user holds capabilities: ${clip(user)}`);
    const root = await sh(sbx, 'grep CapEff /proc/self/status');
    const caps = BigInt(`0x${root.stdout.split('\t')[1]?.trim() || '0'}`);
    const forbidden = {
      CAP_NET_ADMIN: 12n,
      CAP_NET_RAW: 13n,
      CAP_SYS_MODULE: 16n,
      CAP_SYS_PTRACE: 19n,
      CAP_SYS_ADMIN: 21n,
      CAP_SYS_BOOT: 22n,
      CAP_SYS_TIME: 25n,
      CAP_MKNOD: 27n,
    };
    const held = Object.entries(forbidden).filter(([, bit]) => ((caps >> bit) & 1n) === 1n);
    v.expect(held.length === 0, `root holds ${held.map(([name]) => name).join(', ')}`);
    // gVisor lets root make device nodes in its own in-memory file systems: they lead to no
    // host device (A9 opens one); on the container tier mknod itself is refused.
    const mknod = ctx.tier === 'container' ? ['mknod /tmp/sda b 8 0'] : [];
    const attempts = ['mount -t tmpfs none /mnt', 'insmod /nonexistent.ko', 'swapon /dev/null', 'date -s 2000-01-01', 'reboot -f', ...mknod];
    for (const user of bothUsers) {
      for (const cmd of attempts) v.expect((await sh(sbx, `${cmd} 2>&1`, user)).exitCode !== 0, `\`${cmd}\` worked as ${who(user)}`);
    }
    const clock = Date.parse((await sh(sbx, 'date -u -Iseconds')).stdout.trim());
    v.expect(Math.abs(Date.now() - clock) < 60_000, 'the sandbox set the clock');
    return v.held(
      `user capabilities empty, root's CapEff ${caps.toString(16)} lacks ${Object.keys(forbidden).length} dangerous ones; ${attempts.length} privileged commands failed`,
    );
  },
};

const kernelKnobs: Probe = {
  id: 'A6',
  title: 'write kernel knobs: /proc/sys, /sys, /proc/sysrq-trigger',
  class: 'escape',
  tiers: allTiers,
  async run(ctx) {
    const sbx = await ctx.shared();
    const v = new Verdict();
    for (const user of bothUsers) {
      const r = await sh(
        sbx,
        [
          'echo "|/tmp/x" > /proc/sys/kernel/core_pattern; echo rc=$?',
          'echo c > /proc/sysrq-trigger; echo rc=$?',
          'echo 1 > /sys/kernel/mm/ksm/run; echo rc=$?',
          'echo 1 > /proc/sys/vm/drop_caches; echo rc=$?',
        ].join('; ') + ' 2>/dev/null',
        user,
      );
      v.expect(/^rc=[12]\nrc=[12]\nrc=[12]\nrc=[12]\n$/.test(r.stdout), `as ${who(user)} a knob took a write: ${clip(r.stdout)}`);
    }
    return v.held('core_pattern, sysrq-trigger, ksm and drop_caches refused every write');
  },
};

const dangerousSyscalls: Probe = {
  id: 'A7',
  title: 'call dangerous syscalls: bpf, perf_event_open, keyctl, add_key, userfaultfd, kexec_load, open_by_handle_at, io_uring',
  class: 'escape',
  tiers: allTiers,
  async run(ctx) {
    const sbx = await ctx.shared();
    const v = new Verdict();
    const program = [
      'import ctypes',
      'libc = ctypes.CDLL(None, use_errno=True)',
      'calls = [("bpf", 321), ("perf_event_open", 298), ("keyctl", 250), ("add_key", 248), ("userfaultfd", 323), ("kexec_load", 246), ("open_by_handle_at", 304), ("io_uring_setup", 425)]',
      'for name, nr in calls:',
      '    rc = libc.syscall(nr, 0, 0, 0, 0, 0)',
      '    print(name, rc, ctypes.get_errno())',
    ];
    for (const user of bothUsers) {
      const lines = (await py(sbx, program, user)).stdout.trim().split('\n');
      v.expect(lines.length === 8, `as ${who(user)} the probe did not finish: ${clip(lines.join(', '))}`);
      // EPERM from the filter; anything else means the call reached a kernel.
      for (const line of lines.filter((l) => !/ -1 1$/.test(l)))
        v.expect(false, `as ${who(user)} ${line.split(' ')[0]} was not refused (rc, errno: ${line.split(' ').slice(1).join(' ')})`);
    }
    return v.held('all 8 refused with EPERM, as root and as user');
  },
};

const unknownSyscalls: Probe = {
  id: 'A7.2',
  title: 'call a syscall nobody listed; open AF_VSOCK, AF_PACKET, AF_ALG sockets',
  class: 'escape',
  tiers: allTiers,
  async run(ctx) {
    const sbx = await ctx.shared();
    const r = await py(sbx, [
      'import ctypes, socket',
      'libc = ctypes.CDLL(None, use_errno=True)',
      // 451 (cachestat) is newer than the allowlist: the filter (or gVisor) answers ENOSYS
      'print(libc.syscall(451, 0, 0, 0, 0, 0), ctypes.get_errno())',
      'for family in (40, 17, 38):  # AF_VSOCK, AF_PACKET, AF_ALG',
      '    try: socket.socket(family, socket.SOCK_STREAM if family != 17 else socket.SOCK_RAW); print("OPENED", family)',
      '    except OSError as e: print("refused", family)',
    ]);
    return new Verdict()
      .expect(r.stdout === '-1 38\nrefused 40\nrefused 17\nrefused 38\n', `got ${clip(r.stdout + r.stderr)}`)
      .held('syscall 451: ENOSYS; vsock, packet and alg sockets refused');
  },
};

const namespaces: Probe = {
  id: 'A8',
  title: 'make nested namespaces: unshare -U/-m/-n/-p, clone(CLONE_NEWUSER)',
  class: 'escape',
  tiers: allTiers,
  async run(ctx) {
    const sbx = await ctx.shared();
    const v = new Verdict();
    for (const user of bothUsers) {
      for (const cmd of ['unshare -U true', 'unshare -m true', 'unshare -n true', 'unshare -p -f true']) {
        v.expect((await sh(sbx, `${cmd} 2>&1`, user)).exitCode !== 0, `\`${cmd}\` worked as ${who(user)}`);
      }
      const clone = await py(
        sbx,
        [
          'import ctypes',
          'libc = ctypes.CDLL(None, use_errno=True)',
          // raw clone(CLONE_NEWUSER|SIGCHLD) without a stack: only the error matters
          'rc = libc.syscall(56, 0x10000000 | 17, 0, 0, 0, 0)',
          'if rc == 0: libc._exit(0)',
          'print(rc, ctypes.get_errno())',
        ],
        user,
      );
      v.expect(clone.stdout.trim() === '-1 1', `clone(CLONE_NEWUSER) as ${who(user)} gave ${clip(clone.stdout)}`);
    }
    return v.held('unshare and clone(CLONE_NEWUSER) refused, as root and as user');
  },
};

const devices: Probe = {
  id: 'A9',
  title: 'open devices: /dev/mem, /dev/kmsg, block devices, /dev/kvm',
  class: 'escape',
  tiers: allTiers,
  async run(ctx) {
    const sbx = await ctx.shared();
    const v = new Verdict();
    for (const user of bothUsers) {
      const r = await sh(
        sbx,
        'for d in /dev/mem /dev/kmem /dev/port /dev/kmsg /dev/kvm /dev/sda /dev/vda /dev/nvme0n1 /dev/loop0; do head -c1 $d >/dev/null 2>&1 && echo "OPEN $d"; done; ls /dev',
        user,
      );
      v.expect(
        !r.stdout.includes('OPEN'),
        `as ${who(user)}: ${r.stdout
          .split('\n')
          .filter((l) => l.startsWith('OPEN'))
          .join(', ')}`,
      );
      const present = r.stdout.split(/\s+/).filter((d) => /^(mem|kmem|port|kmsg|kvm|sd[a-z]|vd[a-z]|nvme|loop)/.test(d));
      v.expect(present.length === 0, `as ${who(user)} /dev holds ${present.join(', ')}`);
    }
    // Even root cannot make one: no CAP_MKNOD, and the device cgroup allows none.
    v.expect((await sh(sbx, 'mknod /tmp/mem c 1 1 && head -c1 /tmp/mem')).exitCode !== 0, 'root made and read /dev/mem by mknod');
    return v.held('no host device present or openable; mknod of /dev/mem fails');
  },
};

const otherSandbox: Probe = {
  id: 'A10',
  title: 'see, signal, read or reach another sandbox',
  class: 'escape',
  tiers: allTiers,
  async run(ctx) {
    const [a, b] = await Promise.all([ctx.create(), ctx.create()]);
    const v = new Verdict();
    await a.files.write('/work/only-in-a', 'a');
    v.expect(!(await b.files.exists('/work/only-in-a')), "b sees a's file");
    const sleeper = await a.commands.start(['sleep', '300']);
    v.expect((await sh(b, 'pgrep -x sleep || echo none')).stdout.trim() === 'none', "b sees a's process");
    // b tries a's pid and guesses more, and signals every sleep it finds there. Only a sleep: b runs as root in its
    // own pid namespace, where a's pid may be one of b's own processes (its agent, whose death ends the sandbox).
    await sh(b, `for p in ${sleeper.pid} $(seq 2 64); do [ "$(cat /proc/$p/comm 2>/dev/null)" = sleep ] && kill -9 $p; done; true`);
    v.expect((await sh(a, 'pgrep -x sleep >/dev/null && echo alive')).stdout === 'alive\n', "b killed a's process");
    await a.commands.start(['python3', '-c', 'import socket,time; s=socket.socket(); s.bind(("0.0.0.0", 7001)); s.listen(); time.sleep(300)']);
    // A listens (it reaches its own port) before B tries.
    const listening =
      'import socket, time\nfor _ in range(100):\n  try:\n    socket.create_connection(("127.0.0.1", 7001), timeout=1); print("listening"); break\n  except OSError: time.sleep(0.1)';
    v.expect((await py(a, [listening])).stdout === 'listening\n', 'a never listened (the probe could not set up)');
    const reach = await py(b, [
      'import socket',
      'for host in ["127.0.0.1", "10.0.0.1", "172.17.0.1"]:',
      '    try:',
      '        socket.create_connection((host, 7001), timeout=1); print("REACHED", host)',
      '    except OSError as e: print("refused", host)',
    ]);
    v.expect(!reach.stdout.includes('REACHED'), `b reached a's port: ${clip(reach.stdout)}`);
    return v.held("b neither sees a's files or processes, nor kills them, nor reaches its port");
  },
};

const privateNamespaces: Probe = {
  id: 'A11',
  title: 'share hostname, IPC objects or mounts with the host or another sandbox',
  class: 'escape',
  tiers: allTiers,
  async run(ctx) {
    const [a, b] = await Promise.all([ctx.shared(), ctx.create()]);
    const v = new Verdict();
    const renamed = (await sh(a, 'hostname evil 2>&1; hostname')).stdout.trim().split('\n').at(-1);
    v.expect(renamed === a.id, `root renamed the sandbox to ${renamed}`);
    v.expect((await sh(b, 'hostname')).stdout.trim() === b.id, "b's hostname is not its own");
    const key = 0x5add0c + Math.floor(Math.random() * 1000);
    const made = await py(a, ['import ctypes', 'libc = ctypes.CDLL(None, use_errno=True)', `print(libc.shmget(${key}, 4096, 0o1666))`]);
    v.expect(Number(made.stdout.trim()) >= 0, `the probe could not make a shared memory segment: ${clip(made.stdout + made.stderr)}`);
    const other = await py(b, ['import ctypes', 'libc = ctypes.CDLL(None, use_errno=True)', `print(libc.shmget(${key}, 4096, 0o666))`]);
    v.expect(other.stdout.trim() === '-1', "b found a's shared memory segment");
    const mounts = (await sh(b, 'cat /proc/self/mountinfo')).stdout;
    v.expect(!mounts.includes(a.id), "b's mount table names a");
    return v.held('hostname fixed, IPC and mount tables private');
  },
};

const agentSocket: Probe = {
  id: 'K2',
  title: 'the unprivileged user connecting to the agent’s socket',
  class: 'escape',
  tiers: allTiers,
  async run(ctx) {
    const sbx = await ctx.shared();
    const r = await py(
      sbx,
      [
        'import socket',
        's = socket.socket(socket.AF_UNIX)',
        'try:',
        '    s.connect("/.paddock/run/agent.sock"); print("CONNECTED")',
        'except OSError as e: print("refused", e.errno)',
      ],
      'user',
    );
    return new Verdict().expect(/^refused (1|13)\n$/.test(r.stdout), `got ${clip(r.stdout + r.stderr)}`).held(`connect refused (${r.stdout.trim()})`);
  },
};

export const escapeProbes: Probe[] = [
  processes,
  capabilities,
  kernelKnobs,
  dangerousSyscalls,
  unknownSyscalls,
  namespaces,
  devices,
  otherSandbox,
  privateNamespaces,
  agentSocket,
];
