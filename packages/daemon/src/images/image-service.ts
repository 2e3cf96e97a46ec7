import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BadRequestError, formatBytes, type TemplateBuildEvent, type TemplateInfo } from '@paddock/core';
import { idMapping } from '@paddock/engine';
import type { Logger } from 'pino';
import { extract } from 'tar-stream';
import { z } from 'zod';
import type { TemplateCaller, TemplateService } from '../templates/template-service.js';
import type { LayerHolds } from './layer-holds.js';
import { ensureImageLayer, imageLayerDir } from './layer-store.js';
import { readOciImage } from './oci-layout.js';
import { type RegistryLogin, registryHostOf, skopeoCopy, skopeoRawManifest } from './skopeo.js';

export interface ImageServiceDeps {
  templates: TemplateService;
  /** Where layers live: image layers as img-<digest>, work folders of pulls in progress as .work-*. */
  layersDir: string;
  insecureRegistries: string[];
  maxImageBytes: number;
  maxImageLayerBytes: number;
  /** Shared with TemplateService: what a pull holds is never removed under it. */
  holds: LayerHolds;
  /** The login a tenant has for a registry host, if any. */
  loginFor?: (tenant: string, host: string) => RegistryLogin | undefined;
  logger: Logger;
}

export type ImageEmit = (event: TemplateBuildEvent) => void;

const copyTimeoutMs = 60 * 60_000;
const inspectTimeoutMs = 2 * 60_000;

// What a registry's manifest claims, read only for sizes and platforms; readOciImage checks the copied image in full.
const ClaimedManifest = z.object({
  manifests: z
    .array(z.object({ digest: z.string().regex(/^sha256:[a-f0-9]{64}$/), platform: z.object({ os: z.string(), architecture: z.string() }).optional() }))
    .optional(),
  layers: z.array(z.object({ digest: z.string(), size: z.number().int().nonnegative() })).optional(),
});

function claimedManifest(value: unknown): z.infer<typeof ClaimedManifest> {
  const parsed = ClaimedManifest.safeParse(value);
  if (!parsed.success) throw new BadRequestError("the registry's manifest is not a valid OCI or Docker manifest", {}, 'invalid_image');
  return parsed.data;
}

/** registry/name:tag@digest → registry/name. */
function repositoryOf(reference: string): string {
  const name = reference.split('@')[0] ?? reference;
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(0, colon) : name;
}

/**
 * Templates from OCI images: pulled from a registry or read from an
 * uploaded archive by skopeo into a private OCI layout, then each layer
 * unpacked once (layer-store) and the template recorded on those layers with
 * the image's Env, WorkingDir and User.
 */
export class ImageService {
  constructor(private readonly deps: ImageServiceDeps) {}

  async pull(request: { name: string; image: string }, caller: TemplateCaller, emit: ImageEmit, signal?: AbortSignal): Promise<TemplateInfo> {
    const owner = this.deps.templates.requireReplaceable(request.name, caller);
    const host = registryHostOf(request.image);
    const registry = { host, insecure: this.deps.insecureRegistries.includes(host.toLowerCase()), login: this.deps.loginFor?.(caller.tenant, host) };
    return this.make(request.name, request.image, owner, emit, signal, async (layoutDir, workDir) => {
      const source = `docker://${request.image}`;
      await this.checkClaimedSizes(request.image, (ref) =>
        skopeoRawManifest({ source: `docker://${ref}`, workDir, registry, signal, timeoutMs: inspectTimeoutMs }),
      );
      await skopeoCopy({ source, layoutDir, workDir, registry, signal, timeoutMs: copyTimeoutMs });
    });
  }

  /** An archive already on disk (the upload, streamed there by the route): `docker save` or an OCI layout archive. */
  async importArchive(
    request: { name: string; archive: string; label: string },
    caller: TemplateCaller,
    emit: ImageEmit,
    signal?: AbortSignal,
  ): Promise<TemplateInfo> {
    const owner = this.deps.templates.requireReplaceable(request.name, caller);
    return this.make(request.name, request.label, owner, emit, signal, async (layoutDir, workDir) => {
      const transport = (await isOciArchive(request.archive)) ? 'oci-archive' : 'docker-archive';
      await skopeoCopy({ source: `${transport}:${request.archive}`, layoutDir, workDir, signal, timeoutMs: copyTimeoutMs });
    });
  }

  /**
   * Refuses an image whose manifest claims layers over the limits before any
   * layer is downloaded. The claims are of compressed sizes, which the
   * unpacked layers exceed: the unpacking counts again, byte by byte.
   */
  private async checkClaimedSizes(reference: string, manifestOf: (ref: string) => Promise<unknown>): Promise<void> {
    let manifest = claimedManifest(await manifestOf(reference));
    if (manifest.manifests) {
      const amd64 = manifest.manifests.find((m) => m.platform?.os === 'linux' && m.platform.architecture === 'amd64');
      if (!amd64) throw new BadRequestError('the image has no linux/amd64 variant', { image: reference }, 'invalid_image');
      manifest = claimedManifest(await manifestOf(`${repositoryOf(reference)}@${amd64.digest}`));
    }
    let total = 0;
    for (const layer of manifest.layers ?? []) {
      total += layer.size;
      const limit = layer.size > this.deps.maxImageLayerBytes ? this.deps.maxImageLayerBytes : total > this.deps.maxImageBytes ? this.deps.maxImageBytes : 0;
      if (limit) {
        throw new BadRequestError(
          `the image's manifest says layer ${layer.digest} is ${formatBytes(layer.size)}, over the limit of ${formatBytes(limit)}; nothing was downloaded`,
          { layer: layer.digest, claimedBytes: layer.size, limitBytes: limit },
          'image_too_large',
        );
      }
    }
  }

  /** A folder for one pull or import, removed afterwards; a daemon that died mid-way leaves it to the orphan sweep. */
  async workDir(): Promise<string> {
    const dir = join(this.deps.layersDir, `.work-${randomBytes(6).toString('hex')}`);
    await mkdir(dir, { mode: 0o700 });
    return dir;
  }

  private async make(
    name: string,
    ref: string,
    owner: string | null,
    emit: ImageEmit,
    signal: AbortSignal | undefined,
    copy: (layoutDir: string, workDir: string) => Promise<void>,
  ): Promise<TemplateInfo> {
    const work = await this.workDir();
    // Layers this image unpacked first: on a failure they go again, unless a template has them by then.
    const fresh: string[] = [];
    const releases: Array<() => void> = [];
    const releaseAll = () => {
      for (const release of releases) release();
    };
    try {
      emit({ type: 'step', index: 1, total: 2, text: `reading ${ref}` });
      const layoutDir = join(work, 'layout');
      await copy(layoutDir, work);
      const image = await readOciImage(layoutDir);
      const total = image.layers.length + 2;
      const dirs: string[] = [];
      let bytes = 0;
      for (const [i, layer] of image.layers.entries()) {
        signal?.throwIfAborted();
        emit({ type: 'step', index: i + 2, total, text: `layer ${i + 1}/${image.layers.length} ${layer.diffId.slice(0, 19)} (${formatBytes(layer.size)})` });
        // Held before it is looked for: a removal or gc from now on leaves it alone.
        releases.push(this.deps.holds.hold(imageLayerDir(this.deps.layersDir, layer.diffId)));
        const left = this.deps.maxImageBytes - bytes;
        const layerLimited = this.deps.maxImageLayerBytes <= left;
        const shared = await ensureImageLayer(this.deps.layersDir, layer, {
          maxBytes: Math.min(this.deps.maxImageLayerBytes, left),
          limitBytes: layerLimited ? this.deps.maxImageLayerBytes : this.deps.maxImageBytes,
          idOffset: idMapping.hostId,
          idRange: idMapping.size,
          signal,
        });
        emit({ type: 'log', stream: 'stdout', data: `${layer.diffId}: ${shared.reused ? 'already unpacked' : `unpacked, ${formatBytes(shared.bytes)}`}\n` });
        bytes += shared.bytes;
        dirs.unshift(shared.dir);
        if (!shared.reused) fresh.push(shared.dir);
      }
      emit({ type: 'step', index: total, total, text: 'saving template' });
      signal?.throwIfAborted();
      const info = await this.deps.templates.saveImageTemplate({
        name,
        parent: null,
        layerDirs: dirs,
        env: image.config.env,
        workdir: image.config.workdir,
        user: image.config.user,
        createdAt: new Date().toISOString(),
        sizeBytes: bytes,
        kind: 'image',
        owner,
        image: { ref, digest: image.manifestDigest, entrypoint: image.config.entrypoint, cmd: image.config.cmd },
      });
      this.deps.logger.info({ template: name, image: ref, digest: image.manifestDigest, layers: dirs.length, bytes }, 'template made from an image');
      emit({ type: 'done', template: info });
      return info;
    } catch (err) {
      releaseAll();
      await this.deps.templates.removeUnusedLayers(fresh);
      throw err;
    } finally {
      releaseAll();
      await rm(work, { recursive: true, force: true });
    }
  }
}

/** An OCI layout archive has an oci-layout file at its top; anything else is given to skopeo as a `docker save` archive. */
async function isOciArchive(archive: string): Promise<boolean> {
  const entries = extract();
  const input = createReadStream(archive);
  input.pipe(entries);
  try {
    for await (const entry of entries) {
      const name = entry.header.name.replace(/^\.\//, '');
      if (name === 'oci-layout') return true;
      if (name === 'manifest.json') return false;
      entry.resume();
    }
    return false;
  } catch {
    return false;
  } finally {
    input.destroy();
  }
}
