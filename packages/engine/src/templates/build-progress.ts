import type { ProgressEvent } from '@paddock/core';

/** Progress of long template work, rendered by the CLI as a bar or as plain lines. */
export type BuildProgress = ProgressEvent;

export type ProgressListener = (event: BuildProgress) => void;
