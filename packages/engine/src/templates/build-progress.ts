/** Progress of long template work, rendered by the CLI as a bar or as plain lines. */
export interface BuildProgress {
  phase: string;
  /** 0..1 when known. */
  fraction?: number;
  message: string;
}

export type ProgressListener = (event: BuildProgress) => void;
