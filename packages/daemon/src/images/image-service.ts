import { createHash, randomBytes } from 'node:crypto';
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
import { ensureImageLayer, imageLayerDir, isUnpacked } from './layer-store.js';
import { type ImageLayer, imageFromDocuments, type OciImage, readOciImage } from './oci-layout.js';
import type { PulledImage } from './pulled-image.js';
import { type RegistryLogin, registryHostOf, skopeoCopy, skopeoRawDocument, skopeoRawManifest } from './skopeo.js';

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

const digestOf = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new BadRequestError("the registry's manifest is not JSON", {}, 'invalid_image');
  }
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
    return this.make(request.name, request.image, owner, emit, signal, this.registryCopy(request.image, caller.tenant, signal));
  }

  /**
   * An image's layers for a Dockerfile's FROM: pulled and unpacked as for a
   * template (the same limits, digests and logins), but recorded as no
   * template; the build stacks its steps on them. Progress goes out as log
   * lines, the build's FROM being one step. The layers stay held until the
   * caller lets go; `discard` also removes those this pull unpacked first,
   * when no template has them by then.
   */
  async pullLayers(reference: string, tenant: string, log: (text: string) => void, signal?: AbortSignal): Promise<PulledImage> {
    const work = await this.workDir();
    const held = new HeldLayers(this.deps);
    try {
      log(`pulling ${reference}\n`);
      let image = await this.unpackedImage(reference, tenant, work, held, signal);
      if (image) log(`${image.manifestDigest}: every layer is unpacked already: nothing to download\n`);
      else {
        const layoutDir = join(work, 'layout');
        await this.registryCopy(reference, tenant, signal)(layoutDir, work);
        image = await readOciImage(layoutDir);
      }
      const { dirs, bytes } = await this.unpackAll(image, held, (_i, _layer, line) => line && log(line), signal);
      return {
        reference,
        digest: image.manifestDigest,
        layerDirs: dirs,
        config: image.config,
        bytes,
        release: () => held.release(),
        discard: () => held.discard(),
      };
    } catch (err) {
      await held.discard();
      throw err;
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  /**
   * The image a reference names when every one of its layers is unpacked
   * already (a rebuild): read from its manifest and config alone, each
   * checked against its digest, so nothing large is downloaded again. The
   * layers are held from here on. Undefined: the image must be copied.
   */
  private async unpackedImage(reference: string, tenant: string, workDir: string, held: HeldLayers, signal?: AbortSignal): Promise<OciImage | undefined> {
    const registry = this.registryOf(reference, tenant);
    const fetch = (ref: string, config = false) =>
      skopeoRawDocument({ source: `docker://${ref}`, workDir, registry, signal, timeoutMs: inspectTimeoutMs }, config);
    const pinned = reference.includes('@') ? reference.slice(reference.indexOf('@') + 1) : undefined;
    let ref = reference;
    let bytes = await fetch(ref);
    let manifest = claimedManifest(parseJson(bytes));
    if (manifest.manifests) {
      if (pinned && digestOf(bytes) !== pinned) return undefined;
      const amd64 = manifest.manifests.find((m) => m.platform?.os === 'linux' && m.platform.architecture === 'amd64');
      if (!amd64) return undefined;
      ref = `${repositoryOf(reference)}@${amd64.digest}`;
      bytes = await fetch(ref);
      if (digestOf(bytes) !== amd64.digest) return undefined;
      manifest = claimedManifest(parseJson(bytes));
    } else if (pinned && digestOf(bytes) !== pinned) return undefined;
    if (manifest.manifests) return undefined;
    const config = await fetch(ref, true);
    let image: OciImage;
    try {
      image = imageFromDocuments(digestOf(bytes), parseJson(bytes), config);
    } catch {
      // Manifests of other kinds (Docker's schema 1) and refused images take the full copy, which converts or refuses them.
      return undefined;
    }
    for (const layer of image.layers) held.hold(imageLayerDir(this.deps.layersDir, layer.diffId));
    return image.layers.every((layer) => isUnpacked(this.deps.layersDir, layer.diffId)) ? image : undefined;
  }

  private registryOf(reference: string, tenant: string): { host: string; insecure: boolean; login?: RegistryLogin } {
    const host = registryHostOf(reference);
    return { host, insecure: this.deps.insecureRegistries.includes(host.toLowerCase()), login: this.deps.loginFor?.(tenant, host) };
  }

  /** Copies a registry's image into a layout folder: its size claims checked first, the tenant's login (or the shared one) presented. */
  private registryCopy(reference: string, tenant: string, signal?: AbortSignal): (layoutDir: string, workDir: string) => Promise<void> {
    const registry = this.registryOf(reference, tenant);
    return async (layoutDir, workDir) => {
      await this.checkClaimedSizes(reference, (ref) =>
        skopeoRawManifest({ source: `docker://${ref}`, workDir, registry, signal, timeoutMs: inspectTimeoutMs }),
      );
      await skopeoCopy({ source: `docker://${reference}`, layoutDir, workDir, registry, signal, timeoutMs: copyTimeoutMs });
    };
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
    const held = new HeldLayers(this.deps);
    try {
      emit({ type: 'step', index: 1, total: 2, text: `reading ${ref}` });
      const layoutDir = join(work, 'layout');
      await copy(layoutDir, work);
      const image = await readOciImage(layoutDir);
      const total = image.layers.length + 2;
      const { dirs, bytes } = await this.unpackAll(
        image,
        held,
        (i, layer, line) => {
          if (line) emit({ type: 'log', stream: 'stdout', data: line });
          else
            emit({
              type: 'step',
              index: i + 2,
              total,
              text: `layer ${i + 1}/${image.layers.length} ${layer.diffId.slice(0, 19)} (${formatBytes(layer.size)})`,
            });
        },
        signal,
      );
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
      await held.discard();
      throw err;
    } finally {
      held.release();
      await rm(work, { recursive: true, force: true });
    }
  }

  /**
   * Unpacks an image's layers (each once, shared by digest) within the size
   * limits; returns their folders, top first. `progress` hears of each layer
   * as it starts (no line) and as it is done (a line to show).
   */
  private async unpackAll(
    image: OciImage,
    held: HeldLayers,
    progress: (index: number, layer: ImageLayer, line?: string) => void,
    signal: AbortSignal | undefined,
  ): Promise<{ dirs: string[]; bytes: number }> {
    const dirs: string[] = [];
    let bytes = 0;
    for (const [i, layer] of image.layers.entries()) {
      signal?.throwIfAborted();
      progress(i, layer);
      // Held before it is looked for: a removal or gc from now on leaves it alone.
      held.hold(imageLayerDir(this.deps.layersDir, layer.diffId));
      const left = this.deps.maxImageBytes - bytes;
      const layerLimited = this.deps.maxImageLayerBytes <= left;
      const shared = await ensureImageLayer(this.deps.layersDir, layer, {
        maxBytes: Math.min(this.deps.maxImageLayerBytes, left),
        limitBytes: layerLimited ? this.deps.maxImageLayerBytes : this.deps.maxImageBytes,
        idOffset: idMapping.hostId,
        idRange: idMapping.size,
        signal,
      });
      progress(i, layer, `${layer.diffId}: ${shared.reused ? 'already unpacked' : `unpacked, ${formatBytes(shared.bytes)}`}\n`);
      bytes += shared.bytes;
      dirs.unshift(shared.dir);
      if (!shared.reused) held.fresh.push(shared.dir);
    }
    return { dirs, bytes };
  }
}

/** An image's layers pulled for a build: held from removal and gc until released. */

/** The layers one pull holds, and which of them it unpacked first (they go again if the pull or its build fails). */
class HeldLayers {
  readonly fresh: string[] = [];
  private readonly releases: Array<() => void> = [];

  constructor(private readonly deps: Pick<ImageServiceDeps, 'holds' | 'templates'>) {}

  hold(dir: string): void {
    this.releases.push(this.deps.holds.hold(dir));
  }

  release(): void {
    for (const release of this.releases) release();
  }

  async discard(): Promise<void> {
    this.release();
    await this.deps.templates.removeUnusedLayers(this.fresh);
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
