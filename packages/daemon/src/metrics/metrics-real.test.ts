import { readFileSync } from 'node:fs';
import { gvisorPidsHeadroom } from '@paddock/engine';
import { Events, type LiveEventMessage, type MetricsSample, Sandbox } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeTiers, py, sh } from '../security/probe-kit.js';
import { startTestDaemon, type TestDaemon } from '../testing/test-daemon.js';
import { type EchoServer, startTestNetwork, type TestNetwork, testUpstreamRange } from '../testing/test-network.js';

// Metrics from real cgroups and the real egress proxy, on every tier: what a
// sandbox does shows in its numbers, and nothing it does inside changes them.
// An address of its own in the test range: test files run side by side, each binding its upstreams.
const upstream = '198.18.99.60';
/** The pids limit of the sandbox's host cgroup: on gVisor it leaves room for the sentry's own threads. */
const hostPidsLimit = (tier: string, pids: number) => pids + (tier === 'gvisor' ? gvisorPidsHeadroom : 0);
let net: TestNetwork;
let daemon: TestDaemon;
let server: EchoServer;
let testCa: string;

beforeAll(async () => {
  net = await startTestNetwork([upstream]);
  net.setName('allowed.test', upstream);
  net.setName('other.test', upstream);
  server = await net.serve({ address: upstream, port: 80 });
  testCa = readFileSync(net.caFile, 'utf8');
  daemon = await startTestDaemon(['--dns-server', net.dnsServer, '--egress-allow-range', testUpstreamRange, '--metrics-interval', '500'], {
    NODE_EXTRA_CA_CERTS: net.caFile,
  });
});

afterAll(async () => {
  await daemon?.stop();
  await net?.close();
});

/** The newest reading, once there is one that passes `check` (the sampler ticks every 500 ms). */
async function reading(sbx: Sandbox, check: (m: MetricsSample) => boolean, timeoutMs = 30_000): Promise<MetricsSample> {
  let last: MetricsSample | null = null;
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    last = (await sbx.metrics()).current;
    if (last && check(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`no reading of ${sbx.id} passed the check; the last: ${JSON.stringify(last)}`);
}

describe.each(probeTiers)('metrics on the %s tier', (tier) => {
  it('CPU burnt, memory allocated and processes started show in the readings, with the limits the kernel enforces', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn, tier, limits: { memoryMiB: 512, pids: 256, cpus: 2 } });
    try {
      const idle = await reading(sbx, () => true);
      expect(idle.memoryLimitBytes).toBe(512 * 1024 * 1024);
      expect(idle.pidsLimit).toBe(hostPidsLimit(tier, 256));
      // Four busy loops: on a host other work loads too, the sandbox still gets more than half a core.
      for (let i = 0; i < 4; i++) await sbx.commands.start(['sh', '-c', 'while :; do :; done']);
      const busy = await reading(sbx, (m) => m.cpuPercent > 50, 60_000);
      expect(busy.cpuUsageUsec).toBeGreaterThan(idle.cpuUsageUsec);
      // Written, not just reserved: the pages count.
      await sbx.commands.start(['python3', '-c', "b = b'x' * (100 * 1024 * 1024)\nimport time\ntime.sleep(600)"]);
      await reading(sbx, (m) => m.memoryBytes >= idle.memoryBytes + 95 * 1024 * 1024);
      if (tier === 'container') {
        // gVisor's processes live inside its own kernel: the host counts the sentry's threads, not them.
        const before = (await reading(sbx, () => true)).pids;
        await sbx.commands.start(['sh', '-c', 'for i in $(seq 20); do sleep 600 & done; wait']);
        await reading(sbx, (m) => m.pids >= before + 20);
      }
    } finally {
      await sbx.kill();
    }
    // Gone with the sandbox.
    expect(await (await daemon.api(`/v1/sandboxes/${sbx.id}/metrics`)).json()).toEqual({ sandboxId: sbx.id, current: null, history: [] });
  });

  it('readings go on after a rollback restarts the sandbox in a new cgroup', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn, tier });
    try {
      await reading(sbx, () => true);
      const checkpoint = await sbx.checkpoint();
      await sbx.rollback(checkpoint);
      const restarted = await reading(sbx, () => true);
      await sbx.commands.start(['sh', '-c', 'while :; do :; done']);
      await reading(sbx, (m) => m.at > restarted.at && m.cpuUsageUsec > restarted.cpuUsageUsec + 200_000);
    } finally {
      await sbx.kill();
    }
  });

  it('bytes and connections through the egress proxy are counted, refusals too', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn, tier, network: { allow: ['allowed.test'] } });
    try {
      await sbx.files.write('/tmp/test-ca.pem', testCa);
      await sbx.files.write('/tmp/body', 'y'.repeat(20_000));
      const sent = await sh(sbx, 'curl -sS --max-time 20 -X POST --data-binary @/tmp/body http://allowed.test/upload');
      expect(sent.exitCode, sent.stderr).toBe(0);
      expect(server.seen.length).toBeGreaterThan(0);
      await sh(sbx, 'curl -sS --max-time 20 http://other.test/');
      const counted = await reading(sbx, (m) => m.egressAllowed >= 1 && m.egressRefused >= 1);
      expect(counted.netTxBytes).toBeGreaterThanOrEqual(20_000);
      expect(counted.netRxBytes).toBeGreaterThan(0);
    } finally {
      await sbx.kill();
    }
  });

  it('Y5: a sandbox cannot write its own cgroup files to lower its numbers, lift its limits or move out of its cgroup', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn, tier, limits: { memoryMiB: 256, pids: 128 } });
    try {
      await sbx.commands.start(['sh', '-c', 'while :; do :; done']);
      const before = await reading(sbx, (m) => m.cpuUsageUsec > 500_000);
      // cgroup v1 resets cpuacct.usage on a write of 0; memory.force_empty and max_usage drop what was counted.
      const tried = await sh(
        sbx,
        [
          'for f in $(find /sys/fs/cgroup -name cpuacct.usage -o -name memory.force_empty -o -name memory.max_usage_in_bytes -o -name cpu.stat 2>/dev/null); do echo 0 > "$f" 2>/dev/null && echo "wrote $f"; done',
          'for f in $(find /sys/fs/cgroup -name memory.limit_in_bytes -o -name memory.max -o -name pids.max 2>/dev/null); do echo max > "$f" 2>/dev/null && echo "wrote $f"; echo 99999999999 > "$f" 2>/dev/null && echo "wrote $f"; done',
          'for f in $(find /sys/fs/cgroup -name cgroup.procs 2>/dev/null); do echo $$ > "$f" 2>/dev/null && echo "moved via $f"; done',
          'mkdir /sys/fs/cgroup/escape 2>/dev/null && echo "made a cgroup"',
          'mount -t cgroup -o cpuacct none /mnt 2>/dev/null && echo "mounted"',
          'mount -t cgroup2 none /mnt 2>/dev/null && echo "mounted v2"',
          'true',
        ].join('\n'),
      );
      // Today the sandbox sees an empty /sys/fs/cgroup and may mount none; were its files shown, they must stay unwritable.
      expect(tried.stdout).toBe('');
      const after = await reading(sbx, (m) => m.at > before.at);
      expect(after.cpuUsageUsec).toBeGreaterThanOrEqual(before.cpuUsageUsec);
      expect(after.memoryLimitBytes).toBe(256 * 1024 * 1024);
      expect(after.pidsLimit).toBe(hostPidsLimit(tier, 128));
    } finally {
      await sbx.kill();
    }
  });

  it('Y6: a sandbox flooding refused connections is counted in full but cannot flood the event stream or starve other sandboxes’ events', async () => {
    const flooder = await Sandbox.create({ ...daemon.conn, tier, network: { allow: ['allowed.test'] } });
    const quiet = await Sandbox.create({ ...daemon.conn, tier });
    const seen: LiveEventMessage[] = [];
    const stop = new AbortController();
    const streaming = Events.subscribe({ ...daemon.conn, topics: ['sandbox', 'audit'], signal: stop.signal }, (e) => seen.push(e));
    try {
      const flood = await py(flooder, [
        'import urllib.request',
        'n = 0',
        'for i in range(300):',
        '    try:',
        '        urllib.request.urlopen("http://other.test/", timeout=10).read()',
        '    except Exception:',
        '        n += 1',
        'print(n)',
      ]);
      expect(flood.stdout.trim()).toBe('300');
      await quiet.setTimeout(120_000);
      const counted = await reading(flooder, (m) => m.egressRefused >= 300);
      expect(counted.egressRefused).toBe(300);
      // The other sandbox's change arrived, after the whole flood.
      const deadline = Date.now() + 20_000;
      while (!seen.some((e) => e.event === 'sandbox' && e.data.sandbox.id === quiet.id && e.data.kind === 'updated') && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(seen.some((e) => e.event === 'sandbox' && e.data.sandbox.id === quiet.id && e.data.kind === 'updated')).toBe(true);
      // At most 60 refusals a minute per sandbox are audited (the rest are counted into the next record): the stream carries no more.
      const refusals = seen.filter(
        (e) => e.event === 'audit' && e.data.record.action === 'network.connect' && e.data.record.resource === `sandbox:${flooder.id}`,
      );
      expect(refusals.length).toBeLessThanOrEqual(61);
    } finally {
      stop.abort();
      await streaming;
      await Promise.all([flooder.kill(), quiet.kill()]);
    }
  });
});
