import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentClient, agentFeatures, agentProtocolVersion } from '@paddock/engine';
import { Sandbox } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentProcessCount } from '../testing/host-probe.js';
import { startTestDaemon, type TestDaemon } from '../testing/test-daemon.js';

// The daemon ↔ agent protocol: what an agent says it speaks, what the daemon
// does with an older one, and how a supervisor that cannot go on ends.
let daemon: TestDaemon;

beforeAll(async () => {
  daemon = await startTestDaemon();
});

afterAll(async () => {
  await daemon?.stop();
});

const runDir = (id: string) => join(daemon.stateDir, 'sandboxes', id, 'scratch', 'run');

/** Whether a process whose command line holds `marker` still runs in the sandbox. */
async function stillRunning(sbx: Sandbox, marker: string): Promise<boolean> {
  const r = await sbx.commands.runAllowingFailure(['sh', '-c', `ps -eo args= | grep -v grep | grep -c '${marker}'`]);
  return r.stdout.trim() !== '0';
}

describe.each(['container', 'gvisor'] as const)('the agent protocol (%s)', (tier) => {
  let sbx: Sandbox;

  beforeAll(async () => {
    sbx = await Sandbox.create({ ...daemon.conn, tier });
  });

  afterAll(async () => {
    await sbx?.kill().catch(() => {});
  });

  it('the agent answers hello with its protocol version and features', async () => {
    const agent = new AgentClient(join(runDir(sbx.id), 'agent.sock'), sbx.id);
    expect(await agent.hello({ timeoutMs: 5000 })).toEqual({ version: agentProtocolVersion, features: [...agentFeatures] });
  });

  it('K7: a command that cuts its supervisor’s file limit, so that poll fails, is killed and reported, not left running unwatched', async () => {
    const marker = 'paddock-k7-poll';
    const cmd = await sbx.commands.start(
      [
        'python3',
        '-c',
        [
          `# ${marker}`,
          'import os, resource, time',
          // Below the descriptors the supervisor polls: its next poll() fails with EINVAL.
          'resource.prlimit(os.getppid(), resource.RLIMIT_NOFILE, (2, 2))',
          'print("limited", flush=True)',
          'time.sleep(600)',
        ].join('\n'),
      ],
      { user: 'root' },
    );
    await expect(cmd.wait({ timeoutMs: 30_000 })).rejects.toMatchObject({ exitCode: 137, stdout: 'limited\n' });
    expect(await stillRunning(sbx, marker)).toBe(false);
  });

  it('K8: a command that cuts its supervisor’s memory, so that its stdin cannot be buffered, is killed and reported, never fed a stdin with a hole', async () => {
    const marker = 'paddock-k8-stdin';
    let limited!: () => void;
    const ready = new Promise<void>((r) => {
      limited = r;
    });
    const cmd = await sbx.commands.start(
      [
        'python3',
        '-c',
        [
          `# ${marker}`,
          'import os, resource, sys, time',
          'vm = next(int(l.split()[1]) for l in open("/proc/%d/status" % os.getppid()) if l.startswith("VmSize:"))',
          // A little room over what the supervisor maps now: not enough for the stdin it is about to be sent.
          'resource.prlimit(os.getppid(), resource.RLIMIT_AS, ((vm + 256) * 1024,) * 2)',
          'print("limited", flush=True)',
          'while not os.path.exists("/tmp/k8-go"): time.sleep(0.05)',
          'print(len(sys.stdin.buffer.read()), flush=True)',
        ].join('\n'),
      ],
      { user: 'root', openStdin: true, onStdout: (s) => s.includes('limited') && limited() },
    );
    await ready;
    // Sent in pieces while the command reads none of it: the supervisor holds them, growing its buffer, until it has 1 MiB.
    for (let i = 0; i < 14; i++) {
      const taken = await cmd.sendStdin('x'.repeat(64 * 1024), { timeoutMs: 30_000 }).then(
        () => true,
        () => false,
      );
      if (!taken) break;
    }
    await cmd.closeStdin({ timeoutMs: 30_000 }).catch(() => {});
    await sbx.commands.runAllowingFailure(['touch', '/tmp/k8-go']);
    await expect(cmd.wait({ timeoutMs: 30_000 })).rejects.toMatchObject({ exitCode: 137 });
    expect(await stillRunning(sbx, marker)).toBe(false);
  });
});

describe.each(['container', 'gvisor'] as const)('the agent handler opened ahead of a call (%s)', (tier) => {
  let sbx: Sandbox;

  beforeAll(async () => {
    sbx = await Sandbox.create({ ...daemon.conn, tier });
  });

  afterAll(async () => {
    await sbx?.kill().catch(() => {});
  });

  // Once /tmp/kill-now exists, waits for an agent process other than its main one and this command's own handler
  // (the one opened ahead of the next call), kills those, and prints how many.
  const killWaitingHandlers = [
    "me=$PPID; main=$(awk '/^PPid/{print $2}' /proc/$me/status)",
    // The handler that wrote the file is gone once the daemon has its answer; a moment for that.
    'while [ ! -e /tmp/kill-now ]; do sleep 0.02; done; sleep 0.3',
    'others() { for p in /proc/[0-9]*; do q=$(basename "$p"); [ "$q" = "$me" ] || [ "$q" = "$main" ] && continue; [ "$(cat $p/comm 2>/dev/null)" = paddock-agent ] && echo "$q"; done; }',
    'for i in $(seq 250); do [ -n "$(others)" ] && break; sleep 0.02; done',
    'n=0; for q in $(others); do kill -9 "$q" && n=$((n+1)); done; echo "killed $n"',
  ].join('\n');

  it('a handler killed while it waits for the next call costs that call nothing: it runs on a connection of its own', async () => {
    const killer = await sbx.commands.start(['sh', '-c', killWaitingHandlers], { user: 'root' });
    // Its end opens the connection (and the handler) for the next call, which the killer then kills.
    await sbx.files.write('/tmp/kill-now', '');
    const killed = await killer.wait({ timeoutMs: 30_000 });
    expect(Number(/killed (\d+)/.exec(killed.stdout)?.[1])).toBeGreaterThanOrEqual(1);
    for (let i = 0; i < 3; i++) expect((await sbx.commands.run(['echo', `still ${i}`])).stdout).toBe(`still ${i}\n`);
  });
});

describe('agent handlers waiting for a call, seen from the host', () => {
  it('none in a sandbox nobody has called; one at most in a sandbox in use, however many calls it took', async () => {
    const unused = await Sandbox.create({ ...daemon.conn });
    const used = await Sandbox.create({ ...daemon.conn });
    try {
      for (let i = 0; i < 12; i++) await used.commands.run(['true']);
      await Promise.all(Array.from({ length: 6 }, () => used.commands.run(['true'])));
      await used.files.write('/tmp/f', 'x');
      await expect.poll(() => agentProcessCount(daemon.stateDir, used.id), { timeout: 10_000 }).toBe(2);
      // It stays one: nothing more is opened while nothing is called.
      await new Promise((r) => setTimeout(r, 500));
      expect(agentProcessCount(daemon.stateDir, used.id)).toBe(2);
      expect(agentProcessCount(daemon.stateDir, unused.id)).toBe(1);
    } finally {
      await Promise.all([unused.kill(), used.kill()]);
    }
  });
});

describe('an older agent at adoption', () => {
  // Answers as an agent from before re-attach would (or claims to), forging a
  // command it would hand over if asked.
  const fakeAgent = (hello: string) =>
    [
      'import os, socket, struct',
      'os.unlink("/.paddock/run/agent.sock")',
      's = socket.socket(socket.AF_UNIX); s.bind("/.paddock/run/agent.sock"); s.listen(64)',
      'frame = lambda t, p: t + struct.pack(">I", len(p)) + p',
      'asked = open("/.paddock/run/asked", "ab", 0)',
      'held = []',
      'while True:',
      '    c, _ = s.accept()',
      '    head = c.recv(5, socket.MSG_WAITALL)',
      // The daemon opens a connection ahead of its next call, and closes it unused when it goes away.
      '    if len(head) < 5: c.close(); continue',
      '    req = c.recv(struct.unpack(">I", head[1:])[0], socket.MSG_WAITALL)',
      '    op = req.split(b"\\0")[0]; asked.write(op + b"\\n")',
      '    if op == b"o:ping": c.sendall(frame(b"X", b"0 0"))',
      `    elif op == b"o:hello": c.sendall(${hello})`,
      '    elif op == b"o:procs": c.sendall(frame(b"D", b"4242 running - - 0 0 0 0\\n{}") + frame(b"X", b"0 0"))',
      '    elif op == b"o:attach": c.sendall(frame(b"P", b"4242") + frame(b"O", b"forged\\n")); held.append(c); continue',
      '    else: c.sendall(frame(b"F", b"EINVAL unknown operation"))',
      '    c.close()',
    ].join('\n');

  /** A sandbox whose agent is the fake above, seen by a daemon restarted after a crash; and what the fake was asked. */
  async function adoptedWith(hello: string): Promise<{ sbx: Sandbox; asked: string[] }> {
    const sbx = await Sandbox.create({ ...daemon.conn });
    await sbx.commands.start(['python3', '-c', fakeAgent(hello)]);
    await expect
      .poll(async () => (await sbx.files.list('/work', { timeoutMs: 2000 }).catch((e: { code?: string }) => e.code)) as unknown, { timeout: 10_000 })
      .toBe('invalid_argument');
    await daemon.crash();
    await daemon.restart();
    expect(await (await daemon.api(`/v1/sandboxes/${sbx.id}`)).json()).toMatchObject({ state: 'running' });
    expect(await (await daemon.api(`/v1/sandboxes/${sbx.id}/processes`)).json()).toEqual({ processes: [] });
    return { sbx, asked: readFileSync(join(runDir(sbx.id), 'asked'), 'utf8').split('\n') };
  }

  it.each([
    // What the agents from before hello answer to it: they check for a path before the operation.
    ['from before hello (version 0)', 'frame(b"F", b"EINVAL path must be absolute")', '"agentVersion":0'],
    ['whose hello lacks attach', 'frame(b"D", b"1 exec pty files") + frame(b"X", b"0 0")', '"agentVersion":1'],
  ])('a sandbox whose agent is one %s keeps running after a restart; its commands are not re-attached, and the log says why', async (_, hello, version) => {
    const { sbx, asked } = await adoptedWith(hello);
    expect(asked).toContain('o:hello');
    expect(asked).not.toContain('o:procs');
    expect(asked).not.toContain('o:attach');
    const warning = daemon
      .log()
      .split('\n')
      .find((line) => line.includes(sbx.id) && line.includes('predates re-attach'));
    expect(warning).toContain(version);
    expect((await daemon.api(`/v1/sandboxes/${sbx.id}`, { method: 'DELETE' })).status).toBe(200);
  });

  it('K6: a fake agent whose hello is out of shape (oversized, a forged version) gets none of its commands adopted, and the restart comes up', async () => {
    for (const hello of ['frame(b"D", b"1 procs attach " + b"x" * 8000) + frame(b"X", b"0 0")', 'frame(b"D", b"-1 procs attach") + frame(b"X", b"0 0")']) {
      const { sbx, asked } = await adoptedWith(hello);
      expect(asked).not.toContain('o:attach');
      expect((await daemon.api(`/v1/sandboxes/${sbx.id}`, { method: 'DELETE' })).status).toBe(200);
    }
  });
});
