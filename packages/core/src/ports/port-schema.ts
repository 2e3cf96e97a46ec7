import { z } from 'zod';

/** A TCP port inside a sandbox that ingress may reach. */
export const PortNumberSchema = z.coerce.number().int().min(1).max(65_535).describe('a TCP port inside the sandbox, 1 to 65535');

/** Where a server inside a sandbox is reached: both forms go through the daemon's own listener. */
export const PortUrlsSchema = z.object({
  port: z.number().int(),
  /** `http://<port>-<sandbox>.<domain>:<daemon port>/`: its own origin, the form for browsers. */
  hostUrl: z.string(),
  /** `http://<daemon>/v1/sandboxes/<id>/ports/<port>/`: for clients without wildcard names (header auth only). */
  pathUrl: z.string(),
});
export type PortUrls = z.infer<typeof PortUrlsSchema>;

/** How long a public link may live: at least a second, at most 30 days. */
export const portLinkTtlBounds = { minMs: 1000, maxMs: 30 * 24 * 3600 * 1000 } as const;

export const PortLinkCreateSchema = z
  .object({
    port: PortNumberSchema,
    ttlMs: z
      .number()
      .int()
      .min(portLinkTtlBounds.minMs)
      .max(portLinkTtlBounds.maxMs)
      .default(3_600_000)
      .describe('how long the link works, in ms (default 1 h)'),
  })
  .strict();
export type PortLinkCreate = z.input<typeof PortLinkCreateSchema>;

/** A public link to a port: anyone holding its URL may open the port until it expires or is revoked. */
export const PortLinkSchema = z.object({
  id: z.string(),
  port: z.number().int(),
  createdAt: z.string().describe('ISO 8601'),
  expiresAt: z.string().describe('ISO 8601'),
  createdBy: z.string().describe('the token that made it'),
});
export type PortLinkInfo = z.infer<typeof PortLinkSchema>;

/** A link as made: its URLs carry the secret, shown this once (only a digest is kept). */
export const PortLinkCreatedSchema = PortLinkSchema.extend({
  hostUrl: z.string(),
  pathUrl: z.string(),
});
export type PortLinkCreated = z.infer<typeof PortLinkCreatedSchema>;

export const ListeningPortSchema = PortUrlsSchema.extend({
  address: z.string().describe('the address it listens on inside the sandbox (127.0.0.1, 0.0.0.0, ::)'),
});

export const PortListSchema = z.object({
  /** The host form's template, `<port>-<sandbox>.<domain>:<daemon port>`, for getHost(). */
  hostPattern: z.string(),
  /** Both URL forms of any port, `<port>` to be filled in. */
  urlPatterns: z.object({ host: z.string(), path: z.string() }),
  ports: z.array(ListeningPortSchema).describe('TCP ports something listens on inside the sandbox now'),
  links: z.array(PortLinkSchema).describe('public links that still work'),
});
export type PortList = z.infer<typeof PortListSchema>;
