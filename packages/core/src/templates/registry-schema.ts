import { z } from 'zod';

/** A registry as image references name it: host or host:port (lower case), e.g. registry.example.com or 127.0.0.1:5000. */
export const registryHostPattern = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(:\d{1,5})?$/;

export const RegistryLoginSchema = z
  .object({
    username: z
      .string()
      .min(1)
      .max(256)
      .regex(/^[^:\s]+$/, 'a registry user name has no colon or white space'),
    password: z.string().min(1, 'the password is empty').max(8192).describe('sealed at rest; never returned, logged or given to a sandbox'),
    shared: z.boolean().optional().describe("an admin's login every tenant's pulls use (a tenant's own login wins)"),
  })
  .strict();
export type RegistryLogin = z.infer<typeof RegistryLoginSchema>;

export const RegistryLoginInfoSchema = z.object({
  host: z.string(),
  username: z.string(),
  shared: z.boolean().describe("an admin's login for every tenant"),
  createdAt: z.string(),
});
export type RegistryLoginInfo = z.infer<typeof RegistryLoginInfoSchema>;
