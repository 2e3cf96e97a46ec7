import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CommandResult, SandboxInfo, TemplateBuildEvent } from '@paddock/core';
import { busyboxImage, layerTar, skopeo, type TestRegistry } from '@paddock/daemon/testing/oci-fixture';
import { collectGarbage, Templates } from '@paddock/sdk';
import { type BenchContext, expectHi } from './benchmarks.js';
import { rotated } from './stats.js';
import { timedSpawnOk } from './timed-spawn.js';

const now = () => performance.now();

/** The pushed image's data is split over this many layers of random bytes (on top of the two small busybox layers). */
export const imageDataLayers = 4;
const pulledTemplate = 'bench-image';
const cachedTemplate = 'bench-cached';
const copyTimeoutMs = 10 * 60_000;

/** Several steps, none reaching the network: what is timed is the cache lookup of each, never a step that runs. */
const cachedDockerfile = [
  'FROM base',
  'ARG GREETING=hello',
  'ENV BENCH=1',
  'WORKDIR /opt/bench',
  'COPY app.txt ./app.txt',
  'RUN echo "$GREETING" > one.txt',
  'RUN cat one.txt app.txt > two.txt',
  'RUN ls /opt/bench > list.txt',
  'USER user',
  '',
].join('\n');
const cacheableSteps = cachedDockerfile.split('\n').filter((line) => /^(RUN|COPY)\b/.test(line)).length;

/**
 * Templates from images and builds, against the tools a user would run by
 * hand: a pull + unpack of an image of incompressible data from a registry on
 * loopback (`POST /v1/templates/pull`, the template removed and `gc` run after
 * each round so every round downloads and unpacks it all) against `skopeo
 * copy` + `umoci unpack` of the same image; the first sandbox from each pulled
 * template against a `base` cold create; and a rebuild of a Dockerfile whose
 * every step is cached. Variants interleaved round by round.
 */
export async function benchImages(ctx: BenchContext, registry: TestRegistry): Promise<void> {
  const { daemon, config, samples } = ctx;
  const api = daemon.api;
  const plain = { url: daemon.endpoint.url, token: daemon.token };
  const conn = { ...plain, signal: ctx.signal };
  // Beside the daemon's state folder: the same file system as the layers the daemon unpacks.
  const scratch = await mkdtemp(`${daemon.stateDir}-images-`);
  const image = `${registry.host}/bench/data:1`;
  const layersDir = join(daemon.stateDir, 'layers');
  const imageLayers = async () => (await readdir(layersDir).catch(() => [] as string[])).filter((n) => n.startsWith('img-'));

  try {
    await pushImage(image, join(scratch, 'layout'), config.imageMiB);
    ctx.progress(`  pushed ${image}: ${config.imageMiB} MiB of random bytes in ${imageDataLayers} layers, on 2 busybox layers`);

    const createAndEcho = async (template: string) => {
      const t0 = now();
      const sb = await api.call<SandboxInfo>('POST', '/v1/sandboxes', { template });
      try {
        const r = await api.call<CommandResult>('POST', `/v1/sandboxes/${sb.id}/exec`, { cmd: ['echo', 'hi'] });
        const ms = now() - t0;
        expectHi(`a sandbox of ${template}`, r.stdout);
        return ms;
      } finally {
        await api.call('DELETE', `/v1/sandboxes/${sb.id}`);
      }
    };

    type Variant = { name: string; run: (round: number, record: boolean) => Promise<void> };
    const variants: Variant[] = [
      {
        name: 'paddock',
        run: async (round, record) => {
          const t0 = now();
          await Templates.build({ ...conn, name: pulledTemplate, fromImage: image });
          const pulled = now() - t0;
          // The first sandbox of the new template, interleaved with a cold create of base.
          const firsts: Record<string, number> = {};
          for (const [name, template] of rotated(
            [
              ['image', pulledTemplate],
              ['base', 'base'],
            ] as const,
            round,
          )) {
            firsts[name] = await createAndEcho(template);
          }
          await Templates.remove(pulledTemplate, conn);
          await collectGarbage(conn);
          const left = await imageLayers();
          if (left.length) throw new Error(`gc left ${left.length} image layer(s): the next round would not unpack them`);
          if (!record) return;
          samples.add('images.pull.paddock', pulled);
          samples.add('images.firstSandbox.image', firsts.image as number);
          samples.add('images.firstSandbox.base', firsts.base as number);
        },
      },
      {
        name: 'raw',
        run: async (round, record) => {
          const layout = join(scratch, `raw-${round}`);
          const bundle = join(scratch, `bundle-${round}`);
          try {
            const t0 = now();
            // As Paddock runs it: the platform fixed, a private HOME so no login of the host's applies.
            await timedSpawnOk(
              'skopeo',
              ['--override-os', 'linux', '--override-arch', 'amd64', 'copy', '--quiet', '--src-tls-verify=false', `docker://${image}`, `oci:${layout}:image`],
              { env: { PATH: process.env.PATH, HOME: scratch }, timeoutMs: copyTimeoutMs },
            );
            const t1 = now();
            await timedSpawnOk('umoci', ['unpack', '--image', `${layout}:image`, bundle], { timeoutMs: copyTimeoutMs });
            const t2 = now();
            if (!record) return;
            samples.add('images.pull.raw', t2 - t0);
            samples.add('images.pull.rawCopy', t1 - t0);
            samples.add('images.pull.rawUnpack', t2 - t1);
          } finally {
            await rm(layout, { recursive: true, force: true });
            await rm(bundle, { recursive: true, force: true });
          }
        },
      },
    ];
    // One unrecorded round (when there is a warm-up at all): each takes seconds, and the first only has to load code and warm the registry's files.
    const warmup = Math.min(1, config.warmup);
    for (let round = 0; round < warmup + config.imageRounds; round++) {
      for (const v of rotated(variants, round)) {
        ctx.signal.throwIfAborted();
        try {
          await v.run(round, round >= warmup);
        } catch (err) {
          throw new Error(`pull + unpack, ${v.name}, round ${round + 1}: ${(err as Error).message}`);
        }
      }
      if (round >= warmup) ctx.progress(`  pull + unpack: ${round + 1 - warmup}/${config.imageRounds} rounds`);
    }

    await benchCachedRebuild(ctx, conn, scratch);
  } finally {
    // Without the run's signal: after a Ctrl-C these still have to happen.
    await Templates.remove(pulledTemplate, plain).catch(() => {});
    await Templates.remove(cachedTemplate, plain).catch(() => {});
    await collectGarbage(plain).catch(() => {});
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Writes an image of `mib` MiB of random bytes (incompressible: gzip cannot shrink what is downloaded) and pushes it. */
async function pushImage(image: string, layout: string, mib: number): Promise<void> {
  const perLayer = Math.ceil((mib * 1024 * 1024) / imageDataLayers);
  const layers: Buffer[] = [];
  for (let i = 0; i < imageDataLayers; i++) {
    layers.push(
      await layerTar([
        { name: 'data/', type: 'directory' },
        { name: `data/blob-${i}.bin`, data: randomBytes(perLayer) },
      ]),
    );
  }
  await busyboxImage(layout, layers);
  skopeo('copy', '--quiet', `oci:${layout}:latest`, `docker://${image}`, '--dest-tls-verify=false');
  await rm(layout, { recursive: true, force: true });
}

/** A Dockerfile built once to fill the cache, then rebuilt with nothing changed: every RUN and COPY must come from the cache. */
async function benchCachedRebuild(ctx: BenchContext, conn: { url: string; token: string; signal: AbortSignal }, scratch: string): Promise<void> {
  const contextDir = join(scratch, 'context');
  await mkdir(contextDir);
  await writeFile(join(contextDir, 'app.txt'), 'from the build context\n');
  const context = new Uint8Array(execFileSync('tar', ['-c', '-C', contextDir, '.']));
  const build = async () => {
    const steps: Array<{ text: string; cached: boolean }> = [];
    const onEvent = (e: TemplateBuildEvent) => {
      if (e.type === 'step') steps.push({ text: e.text, cached: e.cached === true });
    };
    const t0 = now();
    await Templates.build({ ...conn, name: cachedTemplate, dockerfile: cachedDockerfile, context, onEvent });
    return { ms: now() - t0, steps };
  };
  await build();
  const { warmup, buildRounds } = ctx.config;
  for (let round = 0; round < warmup + buildRounds; round++) {
    ctx.signal.throwIfAborted();
    const { ms, steps } = await build();
    const cacheable = steps.filter((s) => /^(RUN|COPY)\b/.test(s.text));
    if (cacheable.length !== cacheableSteps)
      throw new Error(`cached rebuild, round ${round + 1}: ${cacheable.length} RUN and COPY steps reported, not ${cacheableSteps}`);
    const ran = cacheable.filter((s) => !s.cached);
    if (ran.length) throw new Error(`cached rebuild, round ${round + 1}: ${ran.map((s) => s.text).join('; ')} ran instead of coming from the cache`);
    if (round >= warmup) ctx.samples.add('images.cachedRebuild', ms);
  }
  ctx.progress(`  cached rebuild: ${buildRounds} rounds`);
}
