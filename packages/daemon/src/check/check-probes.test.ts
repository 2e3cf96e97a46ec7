import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckOutputSchema } from '@paddock/core';
import { Sandbox } from '@paddock/sdk';
import { probes } from '@paddock/sdk/probes';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../testing/run-cli.js';
import { cliMain, startTestDaemon, type TestDaemon } from '../testing/test-daemon.js';

// `paddock check --probes` against real daemons: the attack catalogue's probes
// (the same functions the security tests run) in new sandboxes of both tiers.
// A healthy daemon holds them all; one whose container tier lets syscalls
// through its seccomp filter (PADDOCK_TEST_WEAKEN) is named broken.
vi.setConfig({ testTimeout: 360_000, hookTimeout: 120_000 });

let daemon: TestDaemon;
let workDir: string;

beforeAll(async () => {
  daemon = await startTestDaemon();
  workDir = await mkdtemp(join(tmpdir(), 'paddock-check-probes-'));
});

afterAll(async () => {
  await daemon?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

const check = (d: TestDaemon, args: string[]) => runCli(['check', ...args], { env: d.env });

/** Sandboxes a probe run made that are still there. */
async function probeSandboxesLeft(d: TestDaemon) {
  return (await Sandbox.list({ ...d.conn })).filter((s) => s.metadata['paddock-check'] === 'probe' && s.state !== 'killed').map((s) => s.id);
}

describe('paddock check --probes', () => {
  it('on a healthy daemon every probe holds on both tiers, exit 0, and no sandbox is left', async () => {
    const html = join(workDir, 'report.html');
    const run = await check(daemon, ['--probes', '--json', '--html', html]);
    const report = CheckOutputSchema.parse(JSON.parse(run.stdout));
    const broken = report.probes?.results.filter((r) => r.status !== 'held').map((r) => `${r.id} ${r.tier}: ${r.evidence}`);
    expect(broken).toEqual([]);
    expect(run.code).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.probes).toMatchObject({ tiers: ['container', 'gvisor'], attempted: probes.length * 2, broken: 0, brokenShare: 0 });
    // Each of the five classes is attacked on each tier.
    for (const tier of ['container', 'gvisor']) {
      const classes = new Set(report.probes?.results.filter((r) => r.tier === tier).map((r) => r.class));
      expect([...classes].sort()).toEqual(['egress', 'escape', 'exhaustion', 'files', 'secrets']);
    }
    // Progress went to stderr, one plain line per probe (no terminal here).
    expect(run.stderr).toMatch(/^probes: \d+% A\d/m);
    expect(run.stderr).not.toContain('\r');
    const page = await readFile(html, 'utf8');
    expect(page).toContain(`0 of ${probes.length * 2} attacks succeeded`);
    expect(page).not.toMatch(/<script|<link|<img|\bsrc=|\bhref=|url\(|https?:\/\//i);
    expect(await probeSandboxesLeft(daemon)).toEqual([]);
  });

  it('A7: a container tier whose seccomp filter lets keyctl and add_key through is named broken, with evidence; exit 1', async () => {
    const weakened = await startTestDaemon([], { PADDOCK_TEST_WEAKEN: 'seccomp:container:add_key+keyctl' });
    try {
      const run = await check(weakened, ['--probes', '--probe', 'A7', 'A7.2', '--json']);
      expect(run.code).toBe(1);
      const report = CheckOutputSchema.parse(JSON.parse(run.stdout));
      const result = (id: string, tier: string) => report.probes?.results.find((r) => r.id === id && r.tier === tier);
      expect(result('A7', 'container')).toMatchObject({ status: 'broken', evidence: expect.stringMatching(/keyctl was not refused.*add_key was not refused/) });
      expect(result('A7', 'container')?.evidence).not.toMatch(/bpf|perf_event_open|kexec_load/);
      // Only what was opened: the other tier and the other syscall probe still hold.
      expect(result('A7', 'gvisor')).toMatchObject({ status: 'held' });
      expect(result('A7.2', 'container')).toMatchObject({ status: 'held' });
      expect(report.probes).toMatchObject({ attempted: 4, broken: 1, brokenShare: 0.25 });
      expect(report.host.find((i) => i.id === 'host.test-weakening')).toMatchObject({
        status: 'fail',
        detail: 'container: seccomp lets add_key, keyctl through',
      });
      const table = await check(weakened, ['--probes', '--probe', 'A7', '--tier', 'container']);
      expect(table.code).toBe(1);
      expect(table.stdout).toMatch(/BROKEN\s+A7\s+container\s+escape\s+as root keyctl was not refused/);
      expect(table.stdout).toContain('1 of 1 attacks succeeded (100.0%)');
      expect(await probeSandboxesLeft(weakened)).toEqual([]);
    } finally {
      await weakened.stop();
    }
  });

  it('Ctrl-C during the probes kills every sandbox they made before the CLI exits', async () => {
    const child = spawn(process.execPath, [cliMain, 'check', '--probes', '--tier', 'container'], { env: daemon.env });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    // Once a probe has ended, others are under way with sandboxes of their own.
    await vi.waitUntil(() => /^probes: /m.test(stderr), { timeout: 120_000, interval: 100 });
    expect((await probeSandboxesLeft(daemon)).length).toBeGreaterThan(0);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(130);
    expect(await probeSandboxesLeft(daemon)).toEqual([]);
  });
});
