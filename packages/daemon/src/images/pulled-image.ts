import type { ImageConfig } from './oci-layout.js';

/** A registry image a build pulled for a Dockerfile's FROM: its layers, held until released. */
export interface PulledImage {
  reference: string;
  digest: string;
  /** Top first, as a template's layerDirs. */
  layerDirs: string[];
  config: ImageConfig;
  bytes: number;
  release(): void;
  /** Releases, and removes the layers this pull unpacked first that no template or cached build step has. */
  discard(): Promise<void>;
}
