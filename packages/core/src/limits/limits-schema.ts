import { z } from 'zod';
import { limitBounds } from './bounds.js';

export const LimitsSchema = z
  .object({
    memoryMiB: z
      .number()
      .int()
      .min(limitBounds.memoryMiB.min)
      .max(limitBounds.memoryMiB.max)
      .describe('memory limit in MiB; the sandbox is OOM-killed above it'),
    cpus: z.number().min(limitBounds.cpus.min).max(limitBounds.cpus.max).describe('CPU quota in cores (0.5 = half a core)'),
    pids: z.number().int().min(limitBounds.pids.min).max(limitBounds.pids.max).describe('maximum number of processes and threads'),
    diskMiB: z.number().int().min(limitBounds.diskMiB.min).max(limitBounds.diskMiB.max).describe('size of the writable layer in MiB'),
  })
  .strict();

export type Limits = z.infer<typeof LimitsSchema>;

export const LimitsInputSchema = LimitsSchema.partial().strict();
export type LimitsInput = z.infer<typeof LimitsInputSchema>;

export const defaultLimits: Limits = { memoryMiB: 512, cpus: 1, pids: 512, diskMiB: 1024 };
