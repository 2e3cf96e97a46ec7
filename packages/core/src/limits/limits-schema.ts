import { z } from 'zod';

export const LimitsSchema = z
  .object({
    memoryMiB: z.number().int().min(16).max(262_144).describe('memory limit in MiB; the sandbox is OOM-killed above it'),
    cpus: z.number().min(0.01).max(256).describe('CPU quota in cores (0.5 = half a core)'),
    pids: z.number().int().min(8).max(1_000_000).describe('maximum number of processes and threads'),
    diskMiB: z.number().int().min(16).max(1_048_576).describe('size of the writable layer in MiB'),
  })
  .strict();

export type Limits = z.infer<typeof LimitsSchema>;

export const LimitsInputSchema = LimitsSchema.partial().strict();
export type LimitsInput = z.infer<typeof LimitsInputSchema>;

export const defaultLimits: Limits = { memoryMiB: 512, cpus: 1, pids: 512, diskMiB: 1024 };
