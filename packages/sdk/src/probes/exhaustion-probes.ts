import { allTiers, bothUsers, clip, type Probe, py, sh, Verdict, who } from './probe.js';

// Section B of docs/security-probes.md: using up what the host shares, from inside.
// "Held" means the attack stays inside its sandbox, the daemon and every other
// sandbox keep working, and the outcome is reported clearly.

const codeOf = (err: unknown) => (err as { code?: string }).code ?? String(err);

const forkBomb: Probe = {
  id: 'B1',
  title: 'a fork bomb: stopped at the pids limit, the daemon and other sandboxes answer',
  class: 'exhaustion',
  tiers: allTiers,
  async run(ctx) {
    const [bystander, sbx] = await Promise.all([ctx.create(), ctx.create({ limits: { pids: 64 } })]);
    const v = new Verdict();
    await sbx.commands.start(['sh', '-c', 'bomb() { bomb | bomb & }; bomb; sleep 30']).catch(() => {});
    // The bomb is given a few seconds to fill its pids limit (or end its sandbox, under gVisor).
    await new Promise((r) => setTimeout(r, 3000));
    v.expect((await bystander.commands.runAllowingFailure(['echo', 'fine'])).stdout === 'fine\n', 'another sandbox stopped answering');
    const count = await sh(sbx, 'ls /proc | grep -c "^[0-9]"').catch((e: unknown) => e as Error);
    let seen: string;
    if (count instanceof Error) {
      // The wall was hit: the agent could not fork and said so, or the sandbox was ended with a reason.
      seen = codeOf(count);
      v.expect(/^(resource_exhausted|sandbox_exited|sandbox_not_found|agent_connection_lost)$/.test(seen), `the bombed sandbox answered ${clip(seen)}`);
    } else {
      seen = count.exitCode === 0 ? `${count.stdout.trim()} processes` : `a command failed (${count.exitCode})`;
      if (count.exitCode === 0) v.expect(Number(count.stdout.trim()) <= 64, `${count.stdout.trim()} processes past a limit of 64`);
    }
    await sbx.kill().catch(() => {});
    v.expect(
      (await bystander.commands.runAllowingFailure(['echo', 'still fine'])).stdout === 'still fine\n',
      'another sandbox stopped answering after the kill',
    );
    return v.held(`held at the pids limit of 64 (${seen}); another sandbox kept answering`);
  },
};

const memoryHog: Probe = {
  id: 'B2',
  title: 'a memory hog: killed in its own cgroup, the API says out of memory',
  class: 'exhaustion',
  tiers: allTiers,
  async run(ctx) {
    const sbx = await ctx.create({ limits: { memoryMiB: 128 } });
    const v = new Verdict();
    const r = await py(sbx, ['x = bytearray(600 * 1024 * 1024)', 'print("survived")']);
    v.expect(
      r.oomKilled === true && r.signal === 'SIGKILL' && r.exitCode === 137,
      `600 MiB under a 128 MiB limit ended as ${JSON.stringify({ oom: r.oomKilled, signal: r.signal, exit: r.exitCode })}`,
    );
    v.expect(!r.stdout.includes('survived'), 'the hog got its 600 MiB');
    return v.held('600 MiB under a 128 MiB limit: OOM-killed, reported as oomKilled');
  },
};

const diskFill: Probe = {
  id: 'B4',
  title: 'filling the disk: the writable layer is size-limited, the error reported',
  class: 'exhaustion',
  tiers: allTiers,
  async run(ctx) {
    const sbx = await ctx.create({ limits: { diskMiB: 32 } });
    const v = new Verdict();
    const r = await sh(sbx, 'dd if=/dev/zero of=/work/fill bs=1M count=100 2>&1; echo rc=$?');
    v.expect(/No space left on device/.test(r.stdout) && /rc=1/.test(r.stdout), `100 MiB into a 32 MiB layer: ${clip(r.stdout)}`);
    const df = await sbx.commands.runAllowingFailure(['df', '-m', '/work']);
    v.expect(/\s32\s/.test(df.stdout), `/work is not 32 MiB: ${clip(df.stdout)}`);
    return v.held('100 MiB into a 32 MiB layer: No space left on device');
  },
};

const endlessOutput: Probe = {
  id: 'B5',
  title: 'endless output: the daemon’s memory stays bounded and it says it truncated',
  class: 'exhaustion',
  tiers: allTiers,
  async run(ctx) {
    const sbx = await ctx.shared();
    const r = await sbx.commands.runAllowingFailure(['sh', '-c', 'head -c 20000000 /dev/zero | tr "\\0" x; echo; echo tail-marker']);
    return new Verdict()
      .expect(r.truncated === true, 'not marked truncated')
      .expect(r.stdout.length <= 1024 * 1024, `${r.stdout.length} bytes kept`)
      .expect(r.stdout.endsWith('tail-marker\n'), 'the end of the output was lost')
      .held(`20 MB of output: ${r.stdout.length} bytes kept, marked truncated, the end kept`);
  },
};

const fileDescriptors: Probe = {
  id: 'B6',
  title: 'opening file descriptors without end: RLIMIT_NOFILE',
  class: 'exhaustion',
  tiers: allTiers,
  async run(ctx) {
    const sbx = await ctx.shared();
    const v = new Verdict();
    const limits = (await sh(sbx, 'ulimit -n; ulimit -Hn')).stdout;
    v.expect(limits === '4096\n4096\n', `limits are ${clip(limits)}`);
    for (const user of bothUsers) {
      const opened = await py(
        sbx,
        ['import os', 'fds = []', 'try:', '    while True: fds.append(os.open("/dev/null", os.O_RDONLY))', 'except OSError as e: print(len(fds), e.errno)'],
        user,
      );
      const [count, errno] = opened.stdout.trim().split(' ').map(Number);
      v.expect((count ?? Infinity) < 4096 && errno === 24, `as ${who(user)} opened ${opened.stdout.trim()}`);
      v.expect(/rc=[12]/.test((await sh(sbx, 'ulimit -Hn 100000 2>&1; echo rc=$?', user)).stdout), `as ${who(user)} the hard limit was raised`);
    }
    return v.held('stopped below 4096 with EMFILE; the hard limit cannot be raised');
  },
};

const ignoreTerm: Probe = {
  id: 'B7',
  title: 'ignoring SIGTERM: still killed at the timeout',
  class: 'exhaustion',
  tiers: allTiers,
  async run(ctx) {
    const sbx = await ctx.create({ timeoutMs: 3000 });
    await sbx.commands.start(['sh', '-c', "trap '' TERM; while true; do sleep 1; done"]);
    const deadline = Date.now() + 15_000;
    let info = await sbx.getInfo();
    while (info.state !== 'killed' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      info = await sbx.getInfo();
    }
    return new Verdict()
      .expect(
        info.state === 'killed' && info.endReason === 'timeout',
        `15 s past a 3 s timeout the sandbox is ${info.state} (${info.endReason ?? 'no end reason'})`,
      )
      .held('killed at its 3 s timeout, end reason timeout');
  },
};

export const exhaustionProbes: Probe[] = [forkBomb, memoryHog, diskFill, endlessOutput, fileDescriptors, ignoreTerm];
