import { z } from 'zod';

export const SandboxPathSchema = z
  .string()
  .min(1, 'path is empty')
  .max(4096, 'path longer than 4096 bytes')
  .refine((p) => !p.includes('\0'), 'path contains a NUL byte');

export const FileTypeSchema = z.enum(['file', 'dir', 'symlink', 'other']);

export const FileEntrySchema = z.object({
  name: z.string(),
  path: z.string(),
  type: FileTypeSchema,
  size: z.number().int(),
  mode: z.number().int().describe('permission bits, e.g. 420 = 0o644'),
  mtime: z.string(),
  uid: z.number().int(),
  gid: z.number().int(),
  symlinkTarget: z.string().nullable(),
});
export type FileEntry = z.infer<typeof FileEntrySchema>;

const UserSchema = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$/, 'a user name or uid')
  .optional();

export const FilePathQuerySchema = z.object({ path: SandboxPathSchema, user: UserSchema });

export const FileRemoveQuerySchema = FilePathQuerySchema.extend({
  recursive: z.enum(['true', 'false', '1', '0']).optional(),
});

export const FileMkdirSchema = z.object({ path: SandboxPathSchema, user: UserSchema }).strict();
export const FileRenameSchema = z.object({ from: SandboxPathSchema, to: SandboxPathSchema, user: UserSchema }).strict();
