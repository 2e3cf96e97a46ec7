import { z } from 'zod';
import { volumeSizeBounds } from '../limits/bounds.js';

export const volumeNamePattern = /^[a-z0-9][a-z0-9_.-]{0,62}$/;
export const VolumeNameSchema = z
  .string()
  .regex(volumeNamePattern, 'volume names are lowercase letters, digits and "_ . -", starting with a letter or digit, at most 63 characters');

export const VolumeCreateSchema = z
  .object({
    name: VolumeNameSchema,
    sizeMiB: z
      .number()
      .int()
      .min(volumeSizeBounds.min)
      .max(volumeSizeBounds.max)
      .describe('hard size limit, in MiB: the volume is a file system of this size, and a write past it fails with ENOSPC'),
    from: z
      .object({
        template: z.string().min(1).max(128).describe('a template (or snapshot) the tenant may start sandboxes from'),
        path: z
          .lazy(() => SandboxFolderSchema('the folder to copy', 'the folder to copy is not / and not under /proc, /sys, /dev or /.paddock'))
          .describe("the template's folder whose contents the volume starts with, e.g. /work"),
      })
      .strict()
      .optional()
      .describe("start with a copy of a template's folder instead of empty"),
  })
  .strict();
export type VolumeCreate = z.input<typeof VolumeCreateSchema>;

export const VolumeMountSchema = z.object({
  sandbox: z.string().describe('a live sandbox that has the volume mounted'),
  path: z.string(),
  readOnly: z.boolean(),
});

export const VolumeSchema = z.object({
  name: z.string(),
  sizeMiB: z.number().int(),
  usedBytes: z.number().int().nullable().describe('bytes in use on its file system; null when it cannot be read now'),
  createdAt: z.string().describe('ISO 8601'),
  mounts: z.array(VolumeMountSchema).describe('the live sandboxes it is mounted in'),
});
export type VolumeInfo = z.infer<typeof VolumeSchema>;

/** Where the runtime and the agent mount their own file systems. */
const reservedMountPaths = ['/proc', '/sys', '/dev', '/.paddock'];

/** A folder of a sandbox below its root, not in the runtime's or the agent's own file systems. */
const SandboxFolderSchema = (what: string, reserved: string) =>
  z
    .string()
    .max(1024)
    .regex(/^\/[^\0]*$/, `${what} is absolute`)
    .refine((p) => !p.split('/').some((part) => part === '..' || part === '.') && !p.includes('//'), `${what} has no "." or ".." parts and no "//"`)
    .refine((p) => !reservedMountPaths.some((r) => p.replace(/\/+$/, '') === '' || p === r || p.startsWith(`${r}/`)), {
      message: reserved,
    });

/** A volume a sandbox is created with: shown at `path`, writable unless readOnly. */
export const SandboxVolumeSchema = z
  .object({
    name: VolumeNameSchema,
    path: SandboxFolderSchema('a mount path', 'a volume cannot be mounted at / or under /proc, /sys, /dev or /.paddock'),
    readOnly: z.boolean().default(false),
  })
  .strict();
export type SandboxVolume = z.input<typeof SandboxVolumeSchema>;
