import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandResult, SandboxInfo } from '@paddock/core';
import { sandboxPaths } from '@paddock/engine';
import type { BenchUpstream } from './bench-upstream.js';
import { type BenchContext, timedCreateCycle } from './benchmarks.js';
import { type NetworkClientConfig, networkClientSource } from './network-client.js';
import { type NodeProxyFloor, startNodeProxyFloor } from './node-proxy-floor.js';
import { type SpliceRelay, startSpliceRelay } from './splice-relay-floor.js';
import { rotated } from './stats.js';
import { capture, timedSpawnOk } from './timed-spawn.js';

/** What the NETWORK section did, for the report (its timings are in the samples, net.*). */
export interface NetworkOutcome {
  /** Recorded requests per latency variant, over `blocks` runs of the client. */
  requests: number;
  blocks: number;
  /** Bytes of each small answer. */
  smallBytes: number;
  /** Bytes of each download, and recorded downloads per throughput variant. */
  downloadBytes: number;
  downloadRounds: number;
  /** CPU quota of the sandbox the client ran in (cores). */
  sandboxCpus: number;
}

/** Latency variants (net.<name>, ms per request). */
export const latencyVariants = [
  'http.direct',
  'http.proxy',
  'http.daemonOnly',
  'http.nodeProxy',
  'https.direct',
  'https.passThrough',
  'https.nodeTunnel',
  'https.intercepted',
] as const;
/** Download variants (net.mbps.<name>, MB/s with curl). */
export const throughputVariants = [
  'httpDirect',
  'httpProxy',
  'httpNodeProxy',
  'httpsDirect',
  'passThrough',
  'nodeTunnel',
  'spliceTunnel',
  'intercepted',
] as const;
/** Where the CPU of a download goes (net.cpuPerGB.<variant>.<part>, CPU seconds per GB). */
export const cpuParts = ['proxy', 'relay', 'sandboxRest', 'upstream'] as const;

const secretName = 'PADDOCK_BENCH_TOKEN';
const smallBytes = 64;
const inSandbox = { client: '/tmp/bench-net-client.js', ca: '/tmp/bench-upstream-ca.pem' };
const proxy = { host: '127.0.0.1', port: 3128 };

type Where = 'host' | 'sandbox';

/**
 * Egress: the latency a request pays through the proxy (the same client on
 * the host, straight to the server, and in a sandbox, through the relay and
 * the daemon's proxy), download throughput the same ways, and what setting
 * up the proxy network costs a cold create. Each is set against a floor: a
 * minimal Node forward proxy on the host. Variants interleaved round by round.
 */
export async function benchNetwork(ctx: BenchContext, upstream: BenchUpstream): Promise<NetworkOutcome> {
  const { daemon, config, samples } = ctx;
  const api = daemon.api;
  const { plain, secret } = upstream;
  const scratch = await mkdtemp(join(tmpdir(), 'paddock-bench-net-client-'));
  const hostClient = join(scratch, 'client.js');
  await writeFile(hostClient, networkClientSource);
  const sandboxCpus = availableParallelism();
  const downloadBytes = config.networkDownloadMiB * 1024 * 1024;
  const blocks = Math.min(4, config.networkRequests);
  const perBlock = Math.ceil(config.networkRequests / blocks);
  const clockTick = 1000 / Number((await capture('getconf', ['CLK_TCK'])).trim());
  const outcome: NetworkOutcome = { requests: perBlock * blocks, blocks, smallBytes, downloadBytes, downloadRounds: config.networkDownloadRounds, sandboxCpus };

  const exec = async (id: string, cmd: string[], stdin?: string): Promise<CommandResult> => {
    const r = await api.call<CommandResult>('POST', `/v1/sandboxes/${id}/exec`, { cmd, stdin, timeoutMs: 120_000 });
    if (r.exitCode !== 0) throw new Error(`${cmd.join(' ').slice(0, 200)} exited ${r.exitCode}: ${(r.stderr || r.stdout).trim().slice(-500)}`);
    return r;
  };

  let floor: NodeProxyFloor | undefined;
  let relay: SpliceRelay | undefined;
  let sb: SandboxInfo | undefined;
  await api.call('PUT', `/v1/secrets/${secretName}`, { value: `bench-${process.pid}-not-a-real-secret`, hosts: [secret.name] });
  try {
    floor = await startNodeProxyFloor(scratch, { [plain.name]: plain.address, [secret.name]: secret.address });
    relay = await startSpliceRelay({ host: plain.address, port: 443 });
    sb = await api.call<SandboxInfo>('POST', '/v1/sandboxes', {
      template: 'base',
      tier: 'container',
      timeoutMs: 30 * 60_000,
      // The client, curl and the relay share the sandbox's quota: give it the machine, so the quota is not what is measured.
      limits: { cpus: sandboxCpus },
      network: { allow: [plain.name, secret.name] },
      secrets: [secretName],
    });
    const id = sb.id;
    await exec(id, ['sh', '-c', `cat > ${inSandbox.client}`], networkClientSource);
    await exec(id, ['sh', '-c', `cat > ${inSandbox.ca}`], upstream.caPem);
    const egressSocket = join(sandboxPaths(join(daemon.stateDir, 'sandboxes'), id).runDir, 'egress.sock');
    const floorAddress = { host: '127.0.0.1', port: floor.port };

    // ---- 1. small GETs, one kept-alive connection (or tunnel) per run of the client ----
    const base = { warmup: Math.max(10, config.warmup * 5), n: perBlock, expectBytes: smallBytes };
    const path = `/bytes/${smallBytes}`;
    const absolute = `http://${plain.name}${path}`;
    const plainTls = (ca: string) => ({ servername: plain.name, ca });
    const latency: Record<(typeof latencyVariants)[number], { where: Where; client: NetworkClientConfig }> = {
      'http.direct': { where: 'host', client: { ...base, connect: { host: plain.address, port: 80 }, target: path, host: plain.name } },
      'http.proxy': { where: 'sandbox', client: { ...base, connect: proxy, target: absolute, host: plain.name } },
      // The daemon's proxy without the relay: the host speaks to the sandbox's egress socket as the relay would.
      'http.daemonOnly': {
        where: 'host',
        client: { ...base, connect: { path: egressSocket }, preamble: 'PADDOCK/1 proxy -\n', target: absolute, host: plain.name },
      },
      'http.nodeProxy': { where: 'host', client: { ...base, connect: floorAddress, target: absolute, host: plain.name } },
      'https.direct': {
        where: 'host',
        client: { ...base, connect: { host: plain.address, port: 443 }, tls: plainTls(upstream.caFile), target: path, host: plain.name },
      },
      'https.passThrough': {
        where: 'sandbox',
        client: { ...base, connect: proxy, tunnel: `${plain.name}:443`, tls: plainTls(inSandbox.ca), target: path, host: plain.name },
      },
      'https.nodeTunnel': {
        where: 'host',
        client: { ...base, connect: floorAddress, tunnel: `${plain.name}:443`, tls: plainTls(upstream.caFile), target: path, host: plain.name },
      },
      // No ca: the sandbox trusts its own CA through NODE_EXTRA_CA_CERTS, which the daemon sets for sandboxes holding secrets.
      'https.intercepted': {
        where: 'sandbox',
        client: {
          ...base,
          connect: proxy,
          tunnel: `${secret.name}:443`,
          tls: { servername: secret.name },
          target: path,
          host: secret.name,
          authEnv: secretName,
        },
      },
    };
    for (let block = 0; block < blocks; block++) {
      for (const name of rotated([...latencyVariants], block)) {
        ctx.signal.throwIfAborted();
        const { where, client } = latency[name];
        const arg = JSON.stringify(client);
        try {
          const out =
            where === 'host'
              ? (await timedSpawnOk(process.execPath, [hostClient, arg], { timeoutMs: 120_000 })).stdout
              : (await exec(id, ['node', inSandbox.client, arg])).stdout;
          const { ms } = JSON.parse(out) as { ms: number[] };
          if (ms.length !== client.n) throw new Error(`the client returned ${ms.length} timings, not ${client.n}`);
          for (const v of ms) samples.add(`net.${name}`, v);
        } catch (err) {
          throw new Error(`latency, ${name}, block ${block + 1}: ${(err as Error).message}`);
        }
      }
    }
    ctx.progress(`  latency: ${blocks} × ${perBlock} requests per way`);

    // ---- 2. downloads: curl on both sides, and where the CPU goes ----
    const relayPid = await findRelay(daemon.runcRoot, id);
    const sandboxCpuMs = cgroupCpuReader(relayPid);
    const procCpuMs = (pid: number) => procCpuTicks(pid) * clockTick;
    const selfCpuMs = () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    };
    const format = '%{http_code} %{size_download} %{speed_download}';
    const inside = (args: string) => ['sh', '-c', `curl -sS -o /dev/null -w '${format}' ${args}`];
    const onHost = (args: string[]) => ['curl', '-sS', '-o', '/dev/null', '-w', format, ...args];
    const direct = (port: number) => ['--noproxy', '*', '--resolve', `${plain.name}:${port}:${plain.address}`];
    const viaFloor = ['-x', `http://127.0.0.1:${floor.port}`];
    const url = (scheme: 'http' | 'https', host: string, bytes: number) => `${scheme}://${host}/bytes/${bytes}`;
    const relayPort = relay?.port;
    const downloads: Record<(typeof throughputVariants)[number], { where: Where; proxyPid?: number; cmd: (bytes: number) => string[] } | undefined> = {
      httpDirect: { where: 'host', cmd: (n) => onHost([...direct(80), url('http', plain.name, n)]) },
      httpProxy: { where: 'sandbox', proxyPid: daemon.endpoint.pid, cmd: (n) => inside(url('http', plain.name, n)) },
      httpNodeProxy: { where: 'host', proxyPid: floor.pid, cmd: (n) => onHost([...viaFloor, url('http', plain.name, n)]) },
      httpsDirect: { where: 'host', cmd: (n) => onHost([...direct(443), '--cacert', upstream.caFile, url('https', plain.name, n)]) },
      passThrough: { where: 'sandbox', proxyPid: daemon.endpoint.pid, cmd: (n) => inside(`--cacert ${inSandbox.ca} ${url('https', plain.name, n)}`) },
      nodeTunnel: { where: 'host', proxyPid: floor.pid, cmd: (n) => onHost([...viaFloor, '--cacert', upstream.caFile, url('https', plain.name, n)]) },
      // TLS end to end through one splice hop, as a tunnel through the egress proxy is once admitted.
      spliceTunnel: relayPort
        ? {
            where: 'host',
            cmd: (n) =>
              onHost(['--noproxy', '*', '--connect-to', `${plain.name}:443:127.0.0.1:${relayPort}`, '--cacert', upstream.caFile, url('https', plain.name, n)]),
          }
        : undefined,
      intercepted: {
        where: 'sandbox',
        proxyPid: daemon.endpoint.pid,
        cmd: (n) => inside(`-H "Authorization: Bearer $${secretName}" ${url('https', secret.name, n)}`),
      },
    };
    for (let round = 0; round < 1 + config.networkDownloadRounds; round++) {
      // The warm-up round downloads a quarter as much.
      const bytes = round === 0 ? Math.max(1, Math.round(downloadBytes / 4)) : downloadBytes;
      for (const name of rotated([...throughputVariants], round)) {
        ctx.signal.throwIfAborted();
        const v = downloads[name];
        if (!v) continue;
        const cmd = v.cmd(bytes);
        const before = { proxy: v.proxyPid ? procCpuMs(v.proxyPid) : 0, relay: procCpuMs(relayPid), sandbox: sandboxCpuMs(), self: selfCpuMs() };
        const out = v.where === 'host' ? (await timedSpawnOk(cmd[0] as string, cmd.slice(1), { timeoutMs: 120_000 })).stdout : (await exec(id, cmd)).stdout;
        const relay = procCpuMs(relayPid) - before.relay;
        const spent = {
          proxy: v.proxyPid ? procCpuMs(v.proxyPid) - before.proxy : 0,
          relay,
          sandboxRest: v.where === 'sandbox' ? sandboxCpuMs() - before.sandbox - relay : 0,
          upstream: selfCpuMs() - before.self,
        };
        const [code, size, speed] = out.trim().split(' ').map(Number);
        if (code !== 200 || size !== bytes) throw new Error(`download, ${name}: HTTP ${code}, ${size} of ${bytes} bytes`);
        if (round === 0) continue;
        samples.add(`net.mbps.${name}`, (speed as number) / 1e6);
        for (const part of cpuParts) samples.add(`net.cpuPerGB.${name}.${part}`, spent[part] / 1000 / (bytes / 1e9));
      }
    }
    ctx.progress(`  downloads: ${config.networkDownloadRounds} × ${config.networkDownloadMiB} MiB per way`);
  } finally {
    if (sb) await api.call('DELETE', `/v1/sandboxes/${sb.id}`).catch(() => {});
    await api.call('DELETE', `/v1/secrets/${secretName}`).catch(() => {});
    await floor?.stop();
    await relay?.close();
    await rm(scratch, { recursive: true, force: true });
  }

  // ---- 3. what the proxy network adds to a cold create ----
  const createVariants: Array<{ name: 'none' | 'proxy'; body: Record<string, unknown> }> = [
    { name: 'none', body: { template: 'base', tier: 'container', network: { mode: 'none' } } },
    { name: 'proxy', body: { template: 'base', tier: 'container' } },
  ];
  // The row is a difference of two medians of ~50 ms creates that spread by ±10 ms: with 30 rounds it moved by 4 ms
  // between quiet runs of the same build (4.5 vs 8.6 ms); twice the rounds halve the variance.
  const setupRounds = 2 * config.createIterations;
  for (let round = 0; round < config.warmup + setupRounds; round++) {
    for (const v of rotated(createVariants, round)) {
      ctx.signal.throwIfAborted();
      const cycle = await timedCreateCycle(api, v.body, `create (network ${v.name})`);
      if (round < config.warmup) continue;
      for (const step of ['firstOutput', 'create', 'delete'] as const) samples.add(`net.create.${v.name}.${step}`, cycle[step]);
    }
  }
  ctx.progress(`  cold create: ${setupRounds} rounds, network none vs proxy`);
  return outcome;
}

/** The in-sandbox relay's host pid, among the container's processes. */
async function findRelay(runcRoot: string, id: string): Promise<number> {
  const pids = JSON.parse(await capture('runc', ['--root', runcRoot, 'ps', '--format', 'json', id])) as number[];
  const relay = pids.find((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'paddock-egress';
    } catch {
      return false;
    }
  });
  if (relay === undefined) throw new Error(`no paddock-egress among the processes of ${id}`);
  return relay;
}

/** utime + stime of a process (all its threads), in clock ticks. */
function procCpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** Reads the CPU time (ms) of the cgroup a process is in: cpuacct.usage (v1) or cpu.stat usage_usec (v2). */
function cgroupCpuReader(pid: number): () => number {
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
  const v1 = lines.map((l) => l.split(':')).find(([, controllers]) => controllers?.split(',').includes('cpuacct'));
  if (v1) {
    const file = join('/sys/fs/cgroup/cpuacct', v1[2] ?? '/', 'cpuacct.usage');
    return () => Number(readFileSync(file, 'utf8')) / 1e6;
  }
  const unified = lines.find((l) => l.startsWith('0::'));
  if (!unified) throw new Error(`no cpu cgroup for ${pid}`);
  const file = join('/sys/fs/cgroup', unified.slice(3), 'cpu.stat');
  return () => Number(/^usage_usec (\d+)$/m.exec(readFileSync(file, 'utf8'))?.[1]) / 1000;
}
