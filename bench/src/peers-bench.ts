import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Sandbox } from '@paddock/sdk';
import type { BenchContext } from './benchmarks.js';
import { Cleanup } from './cleanup.js';
import { startDockerPeer } from './docker-peer.js';
import { checkedSpawn, type PeerTiming, type PeerWay, peerCommand, peerExpected, systemPath } from './peer-way.js';
import { startPodmanPeer } from './podman-peer.js';
import { startSrtPeers } from './srt-peer.js';
import { rotated } from './stats.js';
import { timedSpawn, timedSpawnOk } from './timed-spawn.js';
import { startBenchPool } from './warm-pool.js';

const now = () => performance.now();

export interface PeersOutcome {
  rounds: number;
  /** Peers that could not run on this machine, and why. */
  skipped: Array<{ peer: string; reason: string }>;
}

/** The cgroup parents the container peers put their containers in, named after the bench's own. */
export function peerCgroupParents(prefix: string): { docker: string; podman: string } {
  return { docker: `${prefix}-docker`, podman: `${prefix}-podman` };
}

/**
 * Peers in the same run: one task — an isolated environment, `python3 -c
 * 'print(1)'` in it, its output read, the environment removed — done the way a
 * user of each tool does it: `docker run --rm`, `podman run --rm`, the `srt`
 * CLI and library, and Paddock through its SDK (a cold create, a create served
 * by a pool, and an exec in a sandbox already running). Docker and Podman run
 * the base template's own rootfs, imported as an image, so every tool runs the
 * same python3. Interleaved round by round, in a rotating order.
 */
export async function benchPeers(ctx: BenchContext, dir: string, cgroupPrefix: string, outer: Cleanup): Promise<PeersOutcome> {
  const { daemon, samples, config } = ctx;
  // The peers' daemons and proxies must not run beside the sections after this one: they go when it ends (or at a Ctrl-C).
  const cleanup = new Cleanup();
  outer.add('stop the peers', () => cleanup.run());
  const skipped: PeersOutcome['skipped'] = [];
  const ways: PeerWay[] = [];
  const parents = peerCgroupParents(cgroupPrefix);
  const add = async (peer: string, start: () => Promise<PeerWay[]>) => {
    try {
      const started = await start();
      // One untimed run each: a peer whose first run fails cannot run here.
      for (const way of started) await way.run();
      ways.push(...started);
    } catch (err) {
      ctx.signal.throwIfAborted();
      const reason = (err as Error).message;
      skipped.push({ peer, reason });
      ctx.progress(`  ${peer}: skipped: ${reason}`);
    }
  };
  try {
    await mkdir(dir, { recursive: true });
    const imageTar = join(dir, 'base.tar');
    const containerPeers = existsSync('/usr/bin/docker') || existsSync('/usr/bin/podman');
    if (containerPeers) {
      ctx.progress('  a tar of the base rootfs for docker import / podman import …');
      // The layer's files belong to the sandboxes' shifted uids; in an image they belong to root, as in any image.
      await timedSpawnOk('tar', ['-C', ctx.baseLayer, '--numeric-owner', '--owner=0', '--group=0', '-cf', imageTar, '.'], { timeoutMs: 10 * 60_000 });
    }
    await add('Docker', async () => [
      await startDockerPeer({ dir: join(dir, 'docker'), imageTar, cgroupParent: parents.docker, cleanup, progress: ctx.progress }),
    ]);
    await add('Podman', async () => [await startPodmanPeer({ dir: join(dir, 'podman'), imageTar, cgroupParent: parents.podman, cleanup })]);
    if (containerPeers) await rm(imageTar, { force: true });
    await add('sandbox-runtime', () => startSrtPeers({ dir: join(dir, 'srt'), cleanup, signal: ctx.signal }));

    const connection = { url: daemon.endpoint.url, token: daemon.token };
    const running = await Sandbox.create({ ...connection, template: 'base', timeoutMs: 30 * 60_000, network: { mode: 'none' } });
    cleanup.add('kill the running sandbox', () => running.kill());
    const pool = await startBenchPool(daemon.api, 2);
    cleanup.add('remove the pool', () => pool.remove());
    // Every way starts with the pool full: a claim is always a hit, and no refill runs beside a timed round.
    const paddockCycle = async (create: () => Promise<Sandbox>): Promise<PeerTiming> => {
      const t0 = now();
      const sb = await create();
      const out = await sb.commands.run(peerCommand);
      const firstOutputMs = now() - t0;
      if (out.stdout !== peerExpected) throw new Error(`Paddock printed ${JSON.stringify(out.stdout)}`);
      await sb.kill();
      return { firstOutputMs, totalMs: now() - t0 };
    };
    ways.push(
      // No isolation at all: the floor every way stands on, for scale.
      {
        key: 'host',
        run: async () =>
          checkedSpawn('python3 on the host', await timedSpawn('/usr/bin/python3', peerCommand.slice(1), { env: { ...process.env, PATH: systemPath } })),
      },
      // No network, as `--network none` for the container peers.
      { key: 'paddockCold', run: () => paddockCycle(() => Sandbox.create({ ...connection, template: 'base', network: { mode: 'none' } })) },
      // Pools keep sandboxes with the default (proxy) network: a create asking for none is made afresh, so the warm way asks for the default.
      { key: 'paddockWarm', run: () => paddockCycle(() => Sandbox.create({ ...connection, template: 'base' })) },
      {
        key: 'paddockExec',
        run: async () => {
          const t0 = now();
          const out = await running.commands.run(peerCommand);
          const ms = now() - t0;
          if (out.stdout !== peerExpected) throw new Error(`Paddock exec printed ${JSON.stringify(out.stdout)}`);
          return { firstOutputMs: ms, totalMs: ms };
        },
      },
    );

    const n = config.peerRounds;
    for (let round = 0; round < config.warmup + n; round++) {
      for (const way of rotated(ways, round)) {
        ctx.signal.throwIfAborted();
        await pool.full();
        const t = await way.run();
        if (round < config.warmup) continue;
        samples.add(`peers.${way.key}.firstOutput`, t.firstOutputMs);
        samples.add(`peers.${way.key}.total`, t.totalMs);
      }
      const done = round + 1 - config.warmup;
      if (done > 0 && (done % 5 === 0 || done === n)) ctx.progress(`  ${done}/${n} rounds`);
    }
    const { misses } = await pool.stats();
    if (misses > 0) ctx.notes.add(`the warm pool missed ${misses} times during the peers benchmark`);
    return { rounds: n, skipped };
  } finally {
    await cleanup.run();
  }
}
