import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { chown, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, pipeline, type Readable, Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { BadRequestError } from '@paddock/core';
import { type LayerUnpackOptions, unpackLayer } from './layer-unpacker.js';
import type { ImageLayer } from './oci-layout.js';

export interface SharedLayer {
  /** The layer's rootfs folder, as a template's layerDirs names it. */
  dir: string;
  bytes: number;
  /** Already unpacked by an earlier image: nothing was written. */
  reused: boolean;
}

export type LayerBudget = Pick<LayerUnpackOptions, 'maxBytes' | 'limitBytes' | 'idOffset' | 'idRange' | 'signal'>;

/** The folder of an image layer, named by its uncompressed digest: one copy for every template that has it. */
export function imageLayerDir(layersDir: string, diffId: string): string {
  return join(layersDir, `img-${diffId.slice('sha256:'.length)}`, 'rootfs');
}

/** Whether an image layer is unpacked already (complete, both its digests checked when it was). */
export function isUnpacked(layersDir: string, diffId: string): boolean {
  return existsSync(join(imageLayerDir(layersDir, diffId), '..', '.complete'));
}

/**
 * Unpacks an image layer into its shared folder unless an earlier image did.
 * It is unpacked into a staging folder and renamed into place only when
 * complete and both digests matched (the blob's and the uncompressed tar's),
 * so a failure or a cancel leaves no layer behind.
 */
export async function ensureImageLayer(layersDir: string, layer: ImageLayer, budget: LayerBudget): Promise<SharedLayer> {
  const dir = imageLayerDir(layersDir, layer.diffId);
  const done = await readFile(join(dir, '..', '.complete'), 'utf8').then(
    (text) => JSON.parse(text) as { bytes: number },
    () => null,
  );
  if (done) {
    if (done.bytes > budget.maxBytes) throw tooLarge(layer, budget);
    return { dir, bytes: done.bytes, reused: true };
  }
  const staging = join(layersDir, `.staging-img-${randomBytes(6).toString('hex')}`);
  try {
    await mkdir(join(staging, 'rootfs'), { recursive: true, mode: 0o755 });
    await chown(join(staging, 'rootfs'), budget.idOffset, budget.idOffset);
    const blobHash = createHash('sha256');
    const tarHash = createHash('sha256');
    // A failure anywhere (a read, a corrupt gzip stream) destroys the whole chain, so the unpacker sees it.
    const tar: Readable = pipeline(
      createReadStream(layer.blobPath),
      hashing(blobHash),
      layer.compression === 'gzip' ? createGunzip() : new PassThrough(),
      hashing(tarHash),
      () => {},
    );
    const { bytes } = await unpackLayer(tar, join(staging, 'rootfs'), { ...budget, layer: layer.digest });
    checkDigest(layer, 'blob', layer.digest, `sha256:${blobHash.digest('hex')}`);
    checkDigest(layer, 'uncompressed layer', layer.diffId, `sha256:${tarHash.digest('hex')}`);
    await writeFile(join(staging, '.complete'), JSON.stringify({ bytes, diffId: layer.diffId, unpackedAt: new Date().toISOString() }));
    await rename(staging, join(dir, '..')).catch(async (err: NodeJS.ErrnoException) => {
      // Another pull unpacked the same layer meanwhile: theirs is as good.
      if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
      await rm(staging, { recursive: true, force: true });
    });
    return { dir, bytes, reused: false };
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
}

function hashing(hash: ReturnType<typeof createHash>): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
}

function checkDigest(layer: ImageLayer, what: string, expected: string, actual: string): void {
  if (expected !== actual) {
    throw new BadRequestError(
      `layer ${layer.digest}: the ${what} has digest ${actual}, not ${expected}`,
      { layer: layer.digest, expected, actual },
      'invalid_image',
    );
  }
}

function tooLarge(layer: ImageLayer, budget: LayerBudget): BadRequestError {
  return new BadRequestError(
    `layer ${layer.digest} takes the image over its size limit of ${budget.limitBytes} bytes`,
    { layer: layer.digest, limitBytes: budget.limitBytes },
    'image_too_large',
  );
}
