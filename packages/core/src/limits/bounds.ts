// The ranges the API accepts, kept apart from the zod schemas that enforce
// them: a CLI checks its flags against the same numbers before it asks the
// daemon, without paying for loading zod.

export interface Bounds {
  min: number;
  max: number;
}

export const limitBounds = {
  memoryMiB: { min: 16, max: 262_144 },
  cpus: { min: 0.01, max: 256 },
  pids: { min: 8, max: 1_000_000 },
  diskMiB: { min: 16, max: 1_048_576 },
} as const satisfies Record<string, Bounds>;

/** A volume's size, in MiB (ext4 needs a few MiB for itself). */
export const volumeSizeBounds = { min: 16, max: 16_777_216 } as const satisfies Bounds;

/** A sandbox's lifetime, in ms. */
export const sandboxTimeoutBounds = { min: 1000, max: 24 * 3_600_000 } as const satisfies Bounds;

/** A token's lifetime (ttlMs), in ms: a second to a year. */
export const tokenTtlBounds = { min: 1000, max: 366 * 86_400_000 } as const satisfies Bounds;

/** A command's timeout, in ms. */
export const commandTimeoutBounds = { min: 1, max: 24 * 3_600_000 } as const satisfies Bounds;

/** How long a cell of code may run before it is interrupted, in ms. */
export const codeTimeoutBounds = { min: 1, max: 24 * 3_600_000 } as const satisfies Bounds;

/** How long a wait for a process's exit may last, in ms. */
export const processWaitBounds = { min: 1, max: 24 * 3_600_000 } as const satisfies Bounds;
