import { randomBytes } from 'node:crypto';
import type { Sandbox } from '../sandbox.js';
import { Secrets } from '../secrets.js';
import { allTiers, clip, type Probe, Verdict } from './probe.js';

// Section E of docs/security-probes.md: a secret's value stays with the daemon.

/**
 * Where in a sandbox a value stands: every process's environment and command
 * line, and the files under the usual folders, searched as root. The searcher
 * gets the value reversed on stdin, so no argv or environment of its own holds
 * it. Prints `[]` when nowhere (else the places, or Python's complaint).
 */
export async function placesHolding(sbx: Sandbox, value: string): Promise<string> {
  const search = await sbx.commands.runAllowingFailure(
    [
      'python3',
      '-c',
      [
        'import os, sys',
        'value = sys.stdin.read()[::-1].encode()',
        'hits = [f"/proc/{p}/{k}" for p in os.listdir("/proc") if p.isdigit() for k in ("environ", "cmdline") if value in open(f"/proc/{p}/{k}", "rb").read()]',
        'for top in ("/etc", "/tmp", "/work", "/home", "/root", "/run", "/var", "/.paddock"):',
        '  for d, _, names in os.walk(top):',
        '    for n in names:',
        '      try:',
        '        if value in open(os.path.join(d, n), "rb").read(): hits.append(os.path.join(d, n))',
        '      except OSError: pass',
        'print(hits)',
      ].join('\n'),
    ],
    { stdin: [...value].reverse().join('') },
  );
  return (search.stdout + search.stderr).trim();
}

const secretNowhereInside: Probe = {
  id: 'E1',
  title: "find a secret's value in the sandbox's environment, files, /proc or the API",
  class: 'secrets',
  tiers: allTiers,
  async run(ctx) {
    const name = `PADDOCK_PROBE_${randomBytes(4).toString('hex').toUpperCase()}`;
    const value = `sk-probe-${randomBytes(18).toString('hex')}`;
    await Secrets.set(name, value, { ...ctx.conn, hosts: ['probe.invalid'], signal: ctx.signal });
    try {
      const sbx = await ctx.create({ secrets: [name], network: { allow: ['probe.invalid'] } });
      const v = new Verdict();
      const placeholder = (await sbx.commands.runAllowingFailure(['printenv', name])).stdout.trim();
      v.expect(/^paddock-placeholder-[0-9a-f]{32}$/.test(placeholder), `the environment holds "${clip(placeholder, 40)}", not a placeholder`);
      const hits = await placesHolding(sbx, value);
      v.expect(hits === '[]', `the value is in ${clip(hits)}`);
      const answers = JSON.stringify([await Secrets.list(ctx.conn), await sbx.getInfo(), await sbx.network.get()]);
      v.expect(!answers.includes(value), 'an API answer holds the value');
      return v.held('the sandbox holds a placeholder; the value is in no process, file or API answer');
    } finally {
      await Secrets.remove(name, ctx.conn).catch(() => {});
    }
  },
};

const headerBreaking: Probe = {
  id: 'E6',
  title: 'secret values that could break out of a header (CR, LF, NUL)',
  class: 'secrets',
  tiers: allTiers,
  async run(ctx) {
    const v = new Verdict();
    for (const [label, value] of [
      ['CR LF', 'a\r\nX-Injected: 1'],
      ['NUL', 'a\u0000b'],
    ] as const) {
      const name = `PADDOCK_PROBE_${randomBytes(4).toString('hex').toUpperCase()}`;
      const r = await Secrets.set(name, value, { ...ctx.conn, hosts: ['probe.invalid'] }).catch((e: unknown) => e);
      if (!(r instanceof Error)) await Secrets.remove(name, ctx.conn).catch(() => {});
      v.expect((r as { status?: number }).status === 400, `a value with ${label} was stored`);
    }
    return v.held('values with CR, LF or NUL refused with 400');
  },
};

export const secretsProbes: Probe[] = [secretNowhereInside, headerBreaking];
