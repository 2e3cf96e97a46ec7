import { Tokens } from '@paddock/sdk';
import { Sandbox } from 'e2b';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../testing/test-daemon.js';

// The base template's login shell, as E2B's SDKs use it: commands.run(CMD)
// is `bash -l -c CMD` on a real sandbox. It runs no program of its own before
// the command (Debian's startup files ran `id -u` and root's `mesg n`, a
// fork and an exec each), and a user's shell ends as Debian's did.
// An operator's key: it may put the spies in /usr/local/bin and a script in /etc/profile.d.
let daemon: TestDaemon;
let sbx: Sandbox;

const userPath = '/usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games';
const rootPath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

beforeAll(async () => {
  daemon = await startTestDaemon();
  const apiKey = (await Tokens.create({ role: 'operator', e2b: true }, daemon.conn)).token;
  sbx = await Sandbox.create('base', { apiKey, apiUrl: `${daemon.url}/e2b`, sandboxUrl: daemon.url, debug: false });
  // Spies first on every PATH a login shell has: each call is written down, then the real program runs.
  const spy = (name: string) => `#!/bin/sh\necho "${name} $*" >> /tmp/spied\nexec /usr/bin/${name} "$@"\n`;
  await sbx.files.write('/usr/local/bin/id', spy('id'), { user: 'root' });
  await sbx.files.write('/usr/local/bin/mesg', spy('mesg'), { user: 'root' });
  await sbx.files.write('/etc/profile.d/paddock-test.sh', 'export FROM_PROFILE_D=yes\n', { user: 'root' });
  await sbx.commands.run('chmod 755 /usr/local/bin/id /usr/local/bin/mesg && touch /tmp/spied && chmod 666 /tmp/spied', { user: 'root' });
});

afterAll(async () => {
  await sbx?.kill().catch(() => undefined);
  await daemon?.stop();
});

const spied = async () => (await sbx.files.read('/tmp/spied')).split('\n').filter(Boolean);

describe('the base template login shell', () => {
  it('runs no program before the command, as user and as root; dash (sh -l) still asks id(1)', async () => {
    await sbx.commands.run(': > /tmp/spied', { user: 'root' });
    await sbx.commands.run('true');
    await sbx.commands.run('true', { user: 'root' });
    expect(await spied()).toEqual([]);
    // The spies work: a shell that is not bash has no $EUID and runs id, as Debian's does (for PATH, and
    // for the prompt dash sets even when not interactive).
    await sbx.commands.run('sh -l -c true');
    expect(await spied()).toEqual(['id -u', 'id -u']);
  });

  it('ends with the PATH, HOME and /etc/profile.d environment Debian gives each user', async () => {
    const show = 'printf "%s|%s|%s\\n" "$PATH" "$HOME" "$FROM_PROFILE_D"';
    expect((await sbx.commands.run(show)).stdout).toBe(`${userPath}|/home/user|yes\n`);
    expect((await sbx.commands.run(show, { user: 'root' })).stdout).toBe(`${rootPath}|/root|yes\n`);
    expect((await sbx.commands.run(`sh -l -c '${show}'`)).stdout).toBe(`${userPath}|/home/user|yes\n`);
    expect((await sbx.commands.run(`sh -l -c '${show}'`, { user: 'root' })).stdout).toBe(`${rootPath}|/root|yes\n`);
  });

  it("an interactive login shell on a terminal gets Debian's prompt, and root's still runs mesg n", async () => {
    const out: Uint8Array[] = [];
    const pty = await sbx.pty.create({ cols: 80, rows: 24, user: 'root', onData: (d) => void out.push(d) });
    await sbx.pty.sendInput(pty.pid, new TextEncoder().encode('echo "prompt=[$PS1]"; mesg; exit\n'));
    await pty.wait().catch(() => undefined);
    const text = Buffer.concat(out).toString();
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Debian's PS1, not a JavaScript template
    expect(text).toContain('prompt=[${debian_chroot:+($debian_chroot)}\\u@\\h:\\w\\$ ]');
    expect(text).toMatch(/is n\r?\n/);
  });
});
