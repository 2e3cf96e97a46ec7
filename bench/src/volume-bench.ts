import { rm } from 'node:fs/promises';
import type { CommandResult, SandboxInfo } from '@paddock/core';
import { type BenchContext, timedCreateCycle } from './benchmarks.js';
import { rotated } from './stats.js';
import { timedSpawnOk } from './timed-spawn.js';

const now = () => performance.now();
const mountVolume = 'bench-mount';
const writeVolume = 'bench-write';
const writePath = '/data/bench-write.bin';

/**
 * Volumes through the API: what mounting one adds to a cold create (the same
 * create → first output with one volume mounted and without, interleaved),
 * and a sequential write into a volume from inside a sandbox against the
 * same `dd` on the host, on the file system of the daemon's state folder
 * (where the volume's image lies). Also how long making and removing a volume
 * takes.
 */
export async function benchVolumes(ctx: BenchContext): Promise<void> {
  const { daemon, config, samples } = ctx;
  const api = daemon.api;
  const hostFile = `${daemon.stateDir}-write.bin`;
  let writer: SandboxInfo | undefined;
  const made = new Set<string>();
  const makeVolume = async (name: string, sizeMiB: number) => {
    made.add(name);
    await api.call('POST', '/v1/volumes', { name, sizeMiB });
  };
  const removeVolume = async (name: string) => {
    await api.call('DELETE', `/v1/volumes/${name}`);
    made.delete(name);
  };

  try {
    // ---- 1. making and removing a volume (informative: the targets are about using one) ----
    for (let round = 0; round < config.warmup + config.volumeWriteRounds; round++) {
      ctx.signal.throwIfAborted();
      const name = `bench-made-${round}`;
      const t0 = now();
      await makeVolume(name, 1024);
      const t1 = now();
      await removeVolume(name);
      const t2 = now();
      if (round < config.warmup) continue;
      samples.add('volumes.volumeCreate', t1 - t0);
      samples.add('volumes.volumeDelete', t2 - t1);
    }

    // ---- 2. a cold create with one volume mounted, against one without ----
    await makeVolume(mountVolume, 64);
    const createVariants: Array<{ name: 'none' | 'volume'; body: Record<string, unknown> }> = [
      { name: 'none', body: { template: 'base' } },
      { name: 'volume', body: { template: 'base', volumes: [{ name: mountVolume, path: '/data' }] } },
    ];
    for (let round = 0; round < config.warmup + config.createIterations; round++) {
      for (const v of rotated(createVariants, round)) {
        ctx.signal.throwIfAborted();
        const cycle = await timedCreateCycle(api, v.body, `create (${v.name})`);
        if (round < config.warmup) continue;
        for (const step of ['firstOutput', 'create', 'delete'] as const) samples.add(`volumes.create.${v.name}.${step}`, cycle[step]);
      }
    }
    ctx.progress(`  cold create: ${config.createIterations} rounds, with one volume mounted and without`);

    // ---- 3. sequential write: dd into the volume inside a sandbox, and the same dd on the host ----
    const mib = config.volumeWriteMiB;
    await makeVolume(writeVolume, mib + 256);
    writer = await api.call<SandboxInfo>('POST', '/v1/sandboxes', {
      template: 'base',
      timeoutMs: 30 * 60_000,
      // More memory than the write: the dirty pages of one dd must not hit the sandbox's memory limit, which is not what is measured.
      limits: { memoryMiB: mib + 512 },
      volumes: [{ name: writeVolume, path: '/data' }],
    });
    const writerId = writer.id;
    const dd = (of: string) => ['dd', 'if=/dev/zero', `of=${of}`, 'bs=1M', `count=${mib}`, 'conv=fsync'];
    const inSandbox = async (cmd: string[]): Promise<CommandResult> => {
      const r = await api.call<CommandResult>('POST', `/v1/sandboxes/${writerId}/exec`, { cmd, timeoutMs: 600_000 });
      if (r.exitCode !== 0) throw new Error(`${cmd.join(' ')} exited ${r.exitCode}: ${r.stderr.trim().slice(-300)}`);
      return r;
    };
    const ways: Array<{ name: 'host' | 'volume'; run: () => Promise<number> }> = [
      {
        name: 'host',
        run: async () => {
          const [file, ...args] = dd(hostFile);
          try {
            return ddRate((await timedSpawnOk(file as string, args, { env: { ...process.env, LC_ALL: 'C' }, timeoutMs: 600_000 })).stderr, mib);
          } finally {
            await rm(hostFile, { force: true });
          }
        },
      },
      {
        name: 'volume',
        run: async () => {
          try {
            return ddRate((await inSandbox(['env', 'LC_ALL=C', ...dd(writePath)])).stderr, mib);
          } finally {
            await inSandbox(['rm', '-f', writePath]);
          }
        },
      },
    ];
    // A fresh volume's inode tables are still being zeroed in the background (ext4's lazy init): the warm-up round absorbs the start of it.
    const warmup = Math.max(1, config.warmup);
    for (let round = 0; round < warmup + config.volumeWriteRounds; round++) {
      for (const way of rotated(ways, round)) {
        ctx.signal.throwIfAborted();
        const rate = await way.run();
        if (round >= warmup) samples.add(`volumes.write.${way.name}`, rate);
      }
    }
    ctx.progress(`  sequential write: ${config.volumeWriteRounds} × ${mib} MiB per way`);
  } finally {
    await rm(hostFile, { force: true });
    if (writer) await api.call('DELETE', `/v1/sandboxes/${writer.id}`).catch(() => {});
    for (const name of made) await removeVolume(name).catch((err: Error) => ctx.notes.add(`removing volume ${name} failed: ${err.message}`));
  }
}

/** MB/s (10^6 bytes) from dd's own summary line: its clock covers the writes and, with conv=fsync, the flush to disk. */
function ddRate(stderr: string, mib: number): number {
  const m = /(\d+) bytes .*copied, ([\d.]+) s/.exec(stderr);
  if (!m) throw new Error(`dd printed no summary: ${stderr.trim().slice(-300)}`);
  if (Number(m[1]) !== mib * 1024 * 1024) throw new Error(`dd wrote ${m[1]} bytes, not ${mib} MiB`);
  return Number(m[1]) / Number(m[2]) / 1e6;
}
