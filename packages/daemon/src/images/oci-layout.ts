import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BadRequestError } from '@paddock/core';
import { z } from 'zod';

const digestPattern = /^sha256:[a-f0-9]{64}$/;
const Digest = z.string().regex(digestPattern, 'not a sha256 digest');

const Descriptor = z.object({ mediaType: z.string().optional(), digest: Digest, size: z.number().int().nonnegative() });

const IndexSchema = z.object({ manifests: z.array(Descriptor).min(1) });

const ManifestSchema = z.object({
  mediaType: z.string().optional(),
  config: Descriptor,
  layers: z.array(Descriptor),
});

const ConfigSchema = z.object({
  architecture: z.string(),
  os: z.string(),
  config: z
    .object({
      Env: z.array(z.string()).nullish(),
      WorkingDir: z.string().nullish(),
      User: z.string().nullish(),
      Entrypoint: z.array(z.string()).nullish(),
      Cmd: z.array(z.string()).nullish(),
    })
    .nullish(),
  rootfs: z.object({ type: z.literal('layers'), diff_ids: z.array(Digest) }),
});

export type LayerCompression = 'none' | 'gzip';

export interface ImageLayer {
  /** Digest of the blob as stored (compressed). */
  digest: string;
  /** Digest of the uncompressed tar: the layer's identity, whatever its compression. */
  diffId: string;
  size: number;
  compression: LayerCompression;
  blobPath: string;
}

export interface ImageConfig {
  env: Record<string, string>;
  workdir: string;
  user: string;
  entrypoint: string[];
  cmd: string[];
}

export interface OciImage {
  manifestDigest: string;
  layers: ImageLayer[];
  config: ImageConfig;
}

const layerTypes: Record<string, LayerCompression> = {
  'application/vnd.oci.image.layer.v1.tar': 'none',
  'application/vnd.oci.image.layer.v1.tar+gzip': 'gzip',
  'application/vnd.docker.image.rootfs.diff.tar.gzip': 'gzip',
};

/** overlayfs stacks at most 500 lower layers, and every one is a mount option; real images stay far below this. */
export const maxImageLayers = 120;
// Manifests and configs are small JSON; a larger one is an attack on the daemon's memory.
const maxJsonBlobBytes = 4 * 1024 * 1024;

/**
 * Reads the one image of an OCI layout folder (as `skopeo copy … oci:DIR`
 * writes it): its manifest, config and layers, each JSON blob checked
 * against its digest. Only linux/amd64 images with uncompressed or gzip
 * layers are accepted.
 */
export async function readOciImage(dir: string): Promise<OciImage> {
  const index = parse(IndexSchema, JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')), 'index.json');
  const manifestDesc = index.manifests[0] as z.infer<typeof Descriptor>;
  const manifest = parse(ManifestSchema, await readJsonBlob(dir, manifestDesc), 'the manifest');
  const config = parse(ConfigSchema, await readJsonBlob(dir, manifest.config), 'the image config');
  return imageOf(manifestDesc.digest, manifest, config, (digest) => blobPath(dir, digest));
}

function imageOf(
  manifestDigest: string,
  manifest: z.infer<typeof ManifestSchema>,
  config: z.infer<typeof ConfigSchema>,
  pathOf: (digest: string) => string,
): OciImage {
  if (config.os !== 'linux' || config.architecture !== 'amd64') {
    throw invalid(`the image is for ${config.os}/${config.architecture}; Paddock runs linux/amd64`, { platform: `${config.os}/${config.architecture}` });
  }
  if (manifest.layers.length > maxImageLayers) throw invalid(`the image has ${manifest.layers.length} layers; at most ${maxImageLayers} are supported`);
  if (manifest.layers.length !== config.rootfs.diff_ids.length) throw invalid('the manifest and the config list different numbers of layers');
  const layers = manifest.layers.map((layer, i): ImageLayer => {
    const compression = layerTypes[layer.mediaType ?? ''];
    if (!compression) throw invalid(`layer ${layer.digest} is ${layer.mediaType ?? 'of no media type'}; supported: plain or gzip tar`, { layer: layer.digest });
    return { digest: layer.digest, diffId: config.rootfs.diff_ids[i] as string, size: layer.size, compression, blobPath: pathOf(layer.digest) };
  });
  return { manifestDigest, layers, config: imageConfig(config.config ?? {}) };
}

export function imageFromDocuments(manifestDigest: string, manifestJson: unknown, configBytes: Buffer): OciImage {
  const manifest = parse(ManifestSchema, manifestJson, 'the manifest');
  const actual = `sha256:${createHash('sha256').update(configBytes).digest('hex')}`;
  if (actual !== manifest.config.digest) throw invalid(`the image config has digest ${actual}, not ${manifest.config.digest}`);
  let json: unknown;
  try {
    json = JSON.parse(configBytes.toString('utf8'));
  } catch {
    throw invalid('the image config is not JSON');
  }
  return imageOf(manifestDigest, manifest, parse(ConfigSchema, json, 'the image config'), () => '');
}

export function blobPath(dir: string, digest: string): string {
  return join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length));
}

async function readJsonBlob(dir: string, desc: z.infer<typeof Descriptor>): Promise<unknown> {
  if (desc.size > maxJsonBlobBytes) throw invalid(`blob ${desc.digest} claims ${desc.size} bytes; a manifest or config is at most ${maxJsonBlobBytes}`);
  const bytes = await readFile(blobPath(dir, desc.digest));
  const actual = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  if (actual !== desc.digest) throw invalid(`blob ${desc.digest} has digest ${actual}`, { expected: desc.digest, actual });
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw invalid(`blob ${desc.digest} is not JSON`);
  }
}

// What a command's user may be (core's CommandStartSchema): the agent takes a name or a uid.
const userPattern = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$/;

function imageConfig(c: NonNullable<z.infer<typeof ConfigSchema>['config']>): ImageConfig {
  const env: Record<string, string> = {};
  for (const pair of c.Env ?? []) {
    const eq = pair.indexOf('=');
    const key = eq > 0 ? pair.slice(0, eq) : '';
    if (!key || pair.includes('\0')) throw invalid(`the image's Env has an entry that is not NAME=value: ${pair.slice(0, 80)}`);
    env[key] = pair.slice(eq + 1);
  }
  const workdir = c.WorkingDir?.startsWith('/') ? c.WorkingDir : '/';
  // USER name:group or uid:gid: the agent takes the user and their group from the image's /etc/passwd.
  const user = (c.User ?? '').split(':')[0] || 'root';
  if (!userPattern.test(user)) throw invalid(`the image's User ${JSON.stringify(c.User)} is not a user name or uid Paddock can run as`);
  return { env, workdir, user, entrypoint: c.Entrypoint ?? [], cmd: c.Cmd ?? [] };
}

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw invalid(`${what} is not a valid OCI document: ${result.error.issues[0]?.message ?? 'invalid'}`);
  return result.data;
}

function invalid(message: string, details: Record<string, unknown> = {}): BadRequestError {
  return new BadRequestError(message, details, 'invalid_image');
}
