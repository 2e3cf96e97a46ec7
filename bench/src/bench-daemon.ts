import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cgroupParentFor } from '@paddock/daemon';
import { CgroupProbe, runtimeRootsOf, sandboxPaths, sweepStateDir } from '@paddock/engine';
import WebSocket from 'ws';
import type { Cleanup } from './cleanup.js';
import { sleep } from './timed-spawn.js';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
export const daemonMain = join(repoRoot, 'packages/daemon/dist/main.js');
/** The `paddock` CLI to time; BENCH_PADDOCK_CLI points elsewhere (an installed build, say). */
export const cliMain = process.env.BENCH_PADDOCK_CLI || join(repoRoot, 'packages/cli/dist/paddock.mjs');

export interface Endpoint {
  url: string;
  socket: string;
  pid: number;
  version: string;
}

/** Minimal keep-alive JSON client, so API timings carry as little client overhead as we can give them. */
export class HttpApi {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 16 });
  private readonly base: URL;

  constructor(
    url: string,
    private readonly token: string,
  ) {
    this.base = new URL(url);
    if (this.base.hostname !== '127.0.0.1') throw new Error(`refusing to bench a daemon that is not on 127.0.0.1: ${url}`);
  }

  async call<T>(method: string, path: string, body?: unknown, timeoutMs = 120_000): Promise<T> {
    try {
      return await this.once<T>(method, path, body, timeoutMs);
    } catch (err) {
      // A kept-alive socket the server closed while idle: the request never reached it; send it again.
      if ((err as { staleSocket?: boolean }).staleSocket) return this.once<T>(method, path, body, timeoutMs);
      throw err;
    }
  }

  private once<T>(method: string, path: string, body: unknown, timeoutMs: number): Promise<T> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string | number> = { authorization: `Bearer ${this.token}` };
    if (payload) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = payload.length;
    }
    return new Promise<T>((resolve, reject) => {
      const req = request({ host: this.base.hostname, port: this.base.port, path, method, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          if ((res.statusCode ?? 0) >= 300) return reject(new Error(`${method} ${path}: HTTP ${res.statusCode}: ${text.slice(0, 500)}`));
          try {
            resolve((text ? JSON.parse(text) : undefined) as T);
          } catch (err) {
            reject(err);
          }
        });
        res.on('error', reject);
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (req.reusedSocket && err.code === 'ECONNRESET') Object.assign(err, { staleSocket: true });
        reject(err);
      });
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

export interface BenchDaemon {
  /** Wakes the daemon's inspector and forces a full V8 garbage collection (done last: the daemon is not the same after). */
  forceGc(): Promise<{ heapUsed: number; heapTotal: number }>;
  stateDir: string;
  endpoint: Endpoint;
  token: string;
  api: HttpApi;
  /** The daemon's cgroup parent (one per state folder). */
  cgroupParent: string;
  runcRoot: string;
  logFile: string;
  logTail(): string;
  alive(): boolean;
}

/** The agent socket of one of the bench daemon's sandboxes (as the daemon reaches it), which must be there. */
export function agentSocketOf(daemon: Pick<BenchDaemon, 'stateDir'>, sandboxId: string): string {
  const socket = sandboxPaths(join(daemon.stateDir, 'sandboxes'), sandboxId).socket;
  if (!existsSync(socket)) throw new Error(`agent socket ${socket} is missing`);
  return socket;
}

/** Same rule as the daemon's config: each state folder gets its own cgroup parent. */

/**
 * Starts our own paddockd on a fresh state folder and a free port on
 * 127.0.0.1, and registers its orderly stop (kill our sandboxes, SIGTERM) plus
 * a sweep of whatever it leaves behind.
 */
export async function startBenchDaemon(
  stateDir: string,
  cacheDir: string,
  cleanup: Cleanup,
  extra: { args?: string[]; env?: Record<string, string> } = {},
): Promise<BenchDaemon> {
  if (!existsSync(daemonMain)) throw new Error(`${daemonMain} is missing: run \`npx tsc -b packages/daemon\` (or make build) first`);
  const logFile = `${stateDir}.log`;
  const runcRoot = join(stateDir, 'runc');
  const cgroupParent = cgroupParentFor(stateDir);
  const log = openSync(logFile, 'a');
  // Its own process group: a Ctrl-C reaches the bench, which then stops the daemon in order.
  // --inspect-port only says where the inspector would listen if SIGUSR1 woke it; until then it costs nothing.
  // The daemon is started as its own executable so the Node flags in its shebang apply.
  // `extra` reaches only the egress proxy (the NETWORK section's DNS server, address range and CA) and the image pulls (the IMAGES section's registry, allowed as insecure).
  const args = ['--state-dir', stateDir, '--cache-dir', cacheDir, '--port', '0', ...(extra.args ?? [])];
  const child: ChildProcess = spawn(daemonMain, args, {
    stdio: ['ignore', log, log],
    detached: true,
    env: {
      ...process.env,
      ...extra.env,
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --inspect-port=127.0.0.1:0`.trim(),
      PADDOCK_HOST: '127.0.0.1',
      PADDOCK_STATE_DIR: stateDir,
      PADDOCK_CACHE_DIR: cacheDir,
    },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const logTail = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n') : '');
  let api: HttpApi | undefined;

  cleanup.add('remove daemon state, mounts, cgroups', () => {
    sweepStateDir(stateDir, runtimeRootsOf(stateDir));
    new CgroupProbe().removeParent(cgroupParent);
  });
  cleanup.add('stop paddockd', async () => {
    if (alive()) {
      await api?.call('DELETE', '/v1/sandboxes').catch((err: Error) => console.error(`cleanup: DELETE /v1/sandboxes: ${err.message}`));
      child.kill('SIGTERM');
      const stopped = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
      if (!stopped) {
        console.error('cleanup: paddockd ignored SIGTERM for 10 s; killing it');
        child.kill('SIGKILL');
        await exited;
      }
    }
    api?.close();
  });

  const deadline = Date.now() + 30_000;
  const file = join(stateDir, 'endpoint.json');
  let endpoint: Endpoint | undefined;
  while (!endpoint) {
    if (!alive()) throw new Error(`paddockd exited (${child.exitCode ?? child.signalCode}) before listening:\n${logTail()}`);
    if (existsSync(file)) {
      const parsed = JSON.parse(await readFile(file, 'utf8')) as Endpoint;
      if (parsed.pid === child.pid) endpoint = parsed;
    }
    if (Date.now() > deadline) throw new Error(`paddockd did not write ${file} within 30 s:\n${logTail()}`);
    if (!endpoint) await sleep(10);
  }
  const token = (await readFile(join(stateDir, 'token'), 'utf8')).trim();
  api = new HttpApi(endpoint.url, token);
  const forceGc = () => collectGarbage(endpoint.pid, logFile);
  return { stateDir, endpoint, token, api, cgroupParent, runcRoot, logFile, logTail, alive, forceGc };
}

async function collectGarbage(pid: number, logFile: string): Promise<{ heapUsed: number; heapTotal: number }> {
  process.kill(pid, 'SIGUSR1');
  const deadline = Date.now() + 5000;
  let url: string | undefined;
  while (!url) {
    url = /Debugger listening on (ws:\/\/127\.0\.0\.1:\d+\/[\w-]+)/.exec(readFileSync(logFile, 'utf8'))?.[1];
    if (!url && Date.now() > deadline) throw new Error('the daemon did not open its inspector');
    if (!url) await sleep(20);
  }
  const ws = new WebSocket(url);
  try {
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    let seq = 0;
    const pending = new Map<number, (result: Record<string, number>) => void>();
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { id?: number; result?: Record<string, number> };
      if (msg.id !== undefined) pending.get(msg.id)?.(msg.result ?? {});
    });
    const send = (method: string) =>
      new Promise<Record<string, number>>((resolve) => {
        const id = ++seq;
        pending.set(id, resolve);
        ws.send(JSON.stringify({ id, method }));
      });
    await send('HeapProfiler.collectGarbage');
    const usage = await send('Runtime.getHeapUsage');
    return { heapUsed: usage.usedSize ?? Number.NaN, heapTotal: usage.totalSize ?? Number.NaN };
  } finally {
    ws.close();
  }
}
