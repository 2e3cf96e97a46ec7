import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { CommandResult, SandboxInfo } from '@paddock/core';
import type { BenchContext } from './benchmarks.js';
import { type SpliceRelay, startSpliceRelay } from './splice-relay-floor.js';
import { rotated } from './stats.js';
import { capture, sleep } from './timed-spawn.js';

/** What the PORTS section did, for the report (its timings are in the samples, ports.*). */
export interface PortsOutcome {
  tiers: string[];
  /** Small requests recorded per variant and tier, bytes of each answer. */
  requests: number;
  smallBytes: number;
  /** Bytes of each download, and downloads recorded per variant and tier. */
  downloadBytes: number;
  downloadRounds: number;
  /** Idle connections asked for and held through ingress (container tier). */
  idleAsked: number;
  idleHeld: number;
  /** Per tier, how ingress opened its connections into the sandbox (the audit records' details.route). */
  routes: Record<string, string[]>;
}

const smallBytes = 64;
const serverPort = 8000;
const inSandbox = '/tmp/bench-ports-server.js';

/**
 * One server for both sides of each comparison, run by the same `node` on the
 * host and in the sandbox: /small answers 64 bytes, /big?n= streams n bytes
 * from one buffer (back-pressure respected), /hold answers its headers and
 * one byte, then stays open and silent.
 */
const serverSource = `
const http = require('node:http');
const big = Buffer.alloc(1 << 20, 97);
const small = Buffer.alloc(${smallBytes}, 120);
const server = http.createServer((req, res) => {
  if (req.url.startsWith('/big')) {
    let left = Number(new URL(req.url, 'http://x').searchParams.get('n'));
    res.writeHead(200, { 'content-length': left });
    const pump = () => {
      while (left > 0) {
        const n = Math.min(left, big.length);
        left -= n;
        if (!res.write(n === big.length ? big : big.subarray(0, n))) return void res.once('drain', pump);
      }
      res.end();
    };
    return pump();
  }
  if (req.url === '/close') {
    // Closed after the answer: each request reaches the sandbox on a new connection.
    return res.writeHead(200, { 'content-length': small.length, connection: 'close' }).end(small);
  }
  if (req.url === '/hold') {
    // One byte: a proxy may hold the headers back until the body starts.
    return res.writeHead(200, { 'content-type': 'text/plain' }).write('.');
  }
  res.writeHead(200, { 'content-length': small.length }).end(small);
});
server.keepAliveTimeout = 60000;
server.listen(Number(process.argv[2]), '127.0.0.1', () => console.log(server.address().port));
`;

function onPath(name: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, name)));
}

/**
 * Ingress: a small request's latency through the daemon (host and path form)
 * against the same server on the host reached directly on loopback, per tier;
 * a 100 MB download the same ways (curl); and 1,000 idle connections held open
 * through ingress while the API answers. Variants interleaved round by round.
 */
export async function benchPorts(ctx: BenchContext): Promise<PortsOutcome> {
  const { daemon, config, samples, progress } = ctx;
  const api = daemon.api;
  const apiUrl = new URL(daemon.endpoint.url);
  const tiers = onPath('runsc') ? ['container', 'gvisor'] : ['container'];
  const requests = Math.max(200, config.networkRequests * 5);
  const downloadBytes = 100 * 1024 * 1024;
  const downloadRounds = Math.max(3, config.networkDownloadRounds + 2);
  const idleAsked = 1000;
  const freshRequests = Math.max(100, config.networkRequests);
  const noKeepAlive = new Agent({ keepAlive: false });
  const outcome: PortsOutcome = { tiers, requests, smallBytes, downloadBytes, downloadRounds, idleAsked, idleHeld: 0, routes: {} };
  const scratch = await mkdtemp(join(tmpdir(), 'paddock-bench-ports-'));
  const hostServerFile = join(scratch, 'server.js');
  await writeFile(hostServerFile, serverSource);
  let hostServer: ChildProcess | undefined;
  let relay: SpliceRelay | undefined;
  const made: string[] = [];
  try {
    hostServer = spawn(process.execPath, [hostServerFile, '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const hostPort = await new Promise<number>((resolve, reject) => {
      hostServer?.stdout?.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
      hostServer?.once('exit', (code) => reject(new Error(`the host's server exited (${code})`)));
    });
    relay = await startSpliceRelay({ host: '127.0.0.1', port: hostPort });
    for (const tier of tiers) {
      const sb = await api.call<SandboxInfo>('POST', '/v1/sandboxes', {
        template: 'base',
        tier,
        timeoutMs: 30 * 60_000,
        // Each connection through ingress is a process in the sandbox; the server and curl share its quota: give it the machine.
        limits: { cpus: 2, pids: 4096, memoryMiB: 2048 },
        network: { mode: 'none' },
      });
      made.push(sb.id);
      await startServer(ctx, sb.id);
      const key = tier === 'container' ? '' : `${tier}.`;
      const pathBase = `/v1/sandboxes/${sb.id}/ports/${serverPort}`;
      const hostName = `${serverPort}-${sb.id}.sandbox.localhost:${apiUrl.port}`;
      const auth = { authorization: `Bearer ${daemon.token}` };
      const ways = {
        direct: { port: hostPort, path: '', headers: {} },
        hostForm: { port: Number(apiUrl.port), path: '', headers: { ...auth, host: hostName } },
        pathForm: { port: Number(apiUrl.port), path: pathBase, headers: auth },
      };

      progress(`  ${tier}: ${requests} small requests per way, kept-alive, interleaved …`);
      const agents = Object.fromEntries(Object.keys(ways).map((k) => [k, new Agent({ keepAlive: true, maxSockets: 1 })]));
      try {
        const warm = Math.max(50, config.warmup * 25);
        const block = 50;
        let round = 0;
        for (let done = -warm; done < requests; done += block, round++) {
          for (const [name, way] of rotated(Object.entries(ways), round)) {
            for (let i = 0; i < block; i++) {
              const t0 = performance.now();
              await get(way.port, `${way.path}/small`, way.headers, agents[name] as Agent, smallBytes);
              if (done >= 0) samples.add(`ports.${key}small.${name}`, performance.now() - t0);
            }
          }
        }
      } finally {
        for (const a of Object.values(agents)) a.destroy();
      }

      progress(`  ${tier}: ${freshRequests} small requests per way, each on a new connection into the sandbox …`);
      for (let done = 0, round = 0; done < freshRequests; done += 25, round++) {
        for (const [name, way] of rotated(Object.entries(ways), round)) {
          for (let i = 0; i < 25; i++) {
            const t0 = performance.now();
            await get(way.port, `${way.path}/close`, way.headers, noKeepAlive, smallBytes);
            samples.add(`ports.${key}fresh.${name}`, performance.now() - t0);
          }
        }
      }

      progress(`  ${tier}: ${downloadRounds} downloads of 100 MB per way (curl) …`);
      const downloads = { ...ways, ...(relay && tier === 'container' ? { spliceRelay: { port: relay.port, path: '', headers: {} } } : {}) };
      for (let round = 0; round < downloadRounds; round++) {
        for (const [name, way] of rotated(Object.entries(downloads), round)) {
          const mbps = await curlDownload(`http://127.0.0.1:${way.port}${way.path}/big?n=${downloadBytes}`, way.headers, downloadBytes);
          samples.add(`ports.${key}mbps.${name}`, mbps);
        }
      }

      outcome.routes[tier] = await routesOf(ctx, sb.id);
      if (tier === 'container') {
        progress(`  ${tier}: ${idleAsked} idle connections through ingress, then the API's latency …`);
        outcome.idleHeld = await holdIdle(ctx, Number(apiUrl.port), `${pathBase}/hold`, auth, idleAsked, sb.id);
      }
      await api.call('DELETE', `/v1/sandboxes/${sb.id}`);
      made.splice(made.indexOf(sb.id), 1);
    }
  } finally {
    await relay?.close();
    hostServer?.kill();
    for (const id of made) await api.call('DELETE', `/v1/sandboxes/${id}`).catch(() => {});
    await rm(scratch, { recursive: true, force: true });
  }
  return outcome;
}

/** The ways ingress opened this sandbox's connections, from its audit records. */
async function routesOf(ctx: BenchContext, id: string): Promise<string[]> {
  const audit = await ctx.daemon.api.call<{ records: Array<{ action: string; resource: string; details: { route?: string } }> }>(
    'GET',
    '/v1/audit?limit=2000&order=desc&action=sandbox.port.open',
  );
  const routes = audit.records.filter((r) => r.resource === `sandbox:${id}`).map((r) => r.details.route ?? 'unrecorded');
  return [...new Set(routes)].sort();
}

async function startServer(ctx: BenchContext, id: string): Promise<void> {
  const api = ctx.daemon.api;
  const exec = async (cmd: string[], stdin?: string): Promise<CommandResult> => {
    const r = await api.call<CommandResult>('POST', `/v1/sandboxes/${id}/exec`, { cmd, stdin, timeoutMs: 60_000 });
    if (r.exitCode !== 0) throw new Error(`${cmd.join(' ')} exited ${r.exitCode}: ${(r.stderr || r.stdout).trim().slice(-300)}`);
    return r;
  };
  await exec(['sh', '-c', `cat > ${inSandbox}`], serverSource);
  await api.call('POST', `/v1/sandboxes/${id}/processes`, { cmd: ['node', inSandbox, String(serverPort)] });
  const hex = serverPort.toString(16).toUpperCase().padStart(4, '0');
  await exec(['sh', '-c', `for i in $(seq 200); do grep -q ":${hex} 00000000:0000 0A" /proc/net/tcp && exit 0; sleep 0.05; done; exit 1`]);
}

/** One GET, its body read whole; rejects on anything but 200 with `expect` bytes. */
function get(port: number, path: string, headers: Record<string, string>, agent: Agent, expect: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent }, (res) => {
      let n = 0;
      res.on('data', (d: Buffer) => {
        n += d.length;
      });
      res.on('end', () => (res.statusCode === 200 && n === expect ? resolve() : reject(new Error(`GET ${path}: HTTP ${res.statusCode}, ${n} bytes`))));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** MB/s of one download by curl (to /dev/null), checked whole. */
async function curlDownload(url: string, headers: Record<string, string>, bytes: number): Promise<number> {
  const args = ['-sS', '-o', '/dev/null', '-w', '%{http_code} %{size_download} %{time_total}'];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  const out = (await capture('curl', [...args, url])).trim().split(' ');
  if (out[0] !== '200' || Number(out[1]) !== bytes) throw new Error(`curl ${url}: ${out.join(' ')}`);
  return bytes / 1e6 / Number(out[2]);
}

/**
 * Opens `count` requests that the server answers with headers and then holds
 * silent, keeps them all open, and times the API (GET of the sandbox) meanwhile.
 * Returns how many were open, all at once, when the API was timed.
 */
async function holdIdle(ctx: BenchContext, port: number, path: string, headers: Record<string, string>, count: number, id: string): Promise<number> {
  const { samples, daemon } = ctx;
  const agent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
  const held: Array<{ destroy: () => void }> = [];
  let closed = 0;
  try {
    const batch = 50;
    for (let i = 0; i < count; i += batch) {
      await Promise.all(
        Array.from({ length: Math.min(batch, count - i) }, () => {
          return new Promise<void>((resolve, reject) => {
            const req = request({ host: '127.0.0.1', port, path, headers, agent }, (res) => {
              if (res.statusCode !== 200) return reject(new Error(`GET ${path}: HTTP ${res.statusCode}`));
              req.setTimeout(0);
              res.on('close', () => closed++);
              res.resume();
              held.push(req);
              resolve();
            });
            req.setTimeout(30_000, () => req.destroy(new Error(`GET ${path}: no answer in 30 s`)));
            req.on('error', reject);
            req.end();
          });
        }),
      );
    }
    await sleep(500);
    for (let i = 0; i < 20; i++) await daemon.api.call('GET', `/v1/sandboxes/${id}`);
    for (let i = 0; i < 300; i++) {
      const t0 = performance.now();
      await daemon.api.call('GET', `/v1/sandboxes/${id}`);
      samples.add('ports.idle.apiGet', performance.now() - t0);
    }
    return held.length - closed;
  } finally {
    for (const req of held) req.destroy();
    agent.destroy();
  }
}
