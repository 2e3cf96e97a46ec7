import { allTiers, clip, type Probe, sh, Verdict } from './probe.js';

// Files: the template shared by every sandbox, and the file API the host serves.

const codeOf = (err: unknown) => (err as { code?: string }).code;

const templateWrites: Probe = {
  id: 'A3',
  title: 'write anywhere in one sandbox to change the template or what another sandbox sees',
  class: 'files',
  tiers: allTiers,
  async run(ctx) {
    const vandal = await ctx.create();
    const v = new Verdict();
    await sh(vandal, 'rm -rf /usr/bin/python3 /etc/passwd; echo pwned > /etc/motd; echo pwned > /.paddock/bin/tini 2>/dev/null; true');
    v.expect((await sh(vandal, 'cat /etc/motd')).stdout === 'pwned\n', 'the vandal could not even change its own /etc/motd (the probe could not set up)');
    const fresh = await ctx.create();
    const seen = await sh(fresh, 'cat /etc/motd; test -x /usr/bin/python3 && grep -c ^root: /etc/passwd');
    v.expect(!seen.stdout.includes('pwned'), 'a new sandbox shows the vandal’s /etc/motd');
    v.expect((await sh(fresh, 'test -x /usr/bin/python3 && echo ok')).stdout === 'ok\n', 'a new sandbox lost /usr/bin/python3');
    return v.held('a new sandbox has the template’s /etc/motd, /etc/passwd and python3');
  },
};

const pathTraversal: Probe = {
  id: 'D3',
  title: 'file paths with ../, NUL bytes, overlong paths through the file API',
  class: 'files',
  tiers: allTiers,
  async run(ctx) {
    const sbx = await ctx.shared();
    const v = new Verdict();
    const name = `paddock-probe-${Math.random().toString(36).slice(2, 10)}`;
    await sbx.files.write(`../../../tmp/${name}`, 'written through ..');
    // It landed inside the sandbox at the path the .. folds to, nowhere else.
    v.expect((await sh(sbx, `cat /tmp/${name}`)).stdout === 'written through ..', 'a write through ../ did not land at the sandbox’s /tmp');
    await sh(sbx, `rm -f /tmp/${name}`);
    const nul = await sbx.files.read('/work/a\u0000b').catch((e: unknown) => e);
    v.expect(codeOf(nul) !== undefined && (nul as { status?: number }).status === 400, `a NUL byte in a path gave ${clip(String(nul))}`);
    const long = await sbx.files.read(`/work/${'a'.repeat(5000)}`).catch((e: unknown) => e);
    v.expect((long as { status?: number }).status === 400, `a 5000-byte path gave ${clip(String(long))}`);
    // A name past NAME_MAX: refused by the agent (path_too_long) or not found, never a crash or a host file.
    const name300 = await sbx.files.read(`/work/${'a'.repeat(300)}`).catch((e: unknown) => e);
    v.expect(/^(path_too_long|file_not_found)$/.test(codeOf(name300) ?? ''), `a 300-byte name gave ${clip(String(name300))}`);
    return v.held('../ stays in the sandbox; NUL bytes and overlong paths refused with 400');
  },
};

const symlinkOut: Probe = {
  id: 'D4',
  title: 'a symlink made inside pointing at a host path, followed by the file API',
  class: 'files',
  tiers: allTiers,
  async run(ctx) {
    const sbx = await ctx.shared();
    const v = new Verdict();
    // The host's /etc/hostname names the host; the sandbox's names the sandbox.
    const own = (await sh(sbx, 'hostname')).stdout.trim();
    await sh(sbx, 'ln -sf /etc/hostname /work/to-etc; ln -sf /proc/1/root/../../../../etc/hostname /work/via-proc');
    for (const link of ['/work/to-etc', '/work/via-proc']) {
      const r = await sbx.files.read(link).catch((e: unknown) => e);
      // Refused (gVisor will not let even the agent follow /proc/1/root) or confined to the sandbox.
      if (r instanceof Error) v.expect(/^(file_not_found|permission_denied)$/.test(codeOf(r) ?? ''), `${link}: ${clip(String(r))}`);
      else v.expect(String(r).trim() === own, `${link} read a file naming "${clip(String(r))}", not the sandbox`);
    }
    return v.held(`both links resolve inside the sandbox (its hostname ${own}) or are refused`);
  },
};

const argvLiteral: Probe = {
  id: 'D5',
  title: 'shell syntax in an exec argument',
  class: 'files',
  tiers: allTiers,
  async run(ctx) {
    const sbx = await ctx.shared();
    const r = await sbx.commands.runAllowingFailure(['echo', '; rm -rf / && echo pwned', '$(id)', '`id`']);
    const still = await sbx.commands.runAllowingFailure(['ls', '/usr/bin/python3']);
    return new Verdict()
      .expect(r.stdout === '; rm -rf / && echo pwned $(id) `id`\n', `the arguments were interpreted: ${clip(r.stdout)}`)
      .expect(still.exitCode === 0, 'files went missing after the call')
      .held('arguments passed literally');
  },
};

export const filesProbes: Probe[] = [templateWrites, pathTraversal, symlinkOut, argvLiteral];
