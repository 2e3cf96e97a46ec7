import { z } from 'zod';

const octet = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const ipv4Pattern = new RegExp(`^${octet}(?:\\.${octet}){3}$`);

/** 4 or 6 for an IP literal, 0 otherwise (no node:net: the schemas run in browsers too). */
export function ipVersion(text: string): 0 | 4 | 6 {
  if (ipv4Pattern.test(text)) return 4;
  if (!/^[0-9a-f:.]+$/i.test(text) || !text.includes(':')) return 0;
  try {
    new URL(`http://[${text}]/`);
    return 6;
  } catch {
    return 0;
  }
}

/**
 * One spelling per IP literal: IPv6 compressed and lowercase, an
 * IPv4-mapped IPv6 address as its IPv4 (0:0:0:0:0:ffff:7f00:1 → 127.0.0.1),
 * so that rules, policies and the address guard compare like with like.
 * Anything else comes back unchanged.
 */
export function canonicalHost(text: string): string {
  const version = ipVersion(text);
  if (version !== 6) return text;
  const canonical = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (!mapped) return canonical;
  const hi = Number.parseInt(mapped[1] as string, 16);
  const lo = Number.parseInt(mapped[2] as string, 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

const hostLabel = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const hostNamePattern = new RegExp(`^(?:\\*\\.)?${hostLabel}(?:\\.${hostLabel})*$`);

/**
 * Splits a rule into host and optional port; the host is lowercased, IPv6
 * literals are written in brackets ([2001:db8::1]:443). Undefined when the
 * rule is not one.
 */
export function parseHostRule(rule: string): { host: string; port?: number } | undefined {
  const text = rule.trim().toLowerCase();
  const bracketed = /^\[([0-9a-f:.]+)\](?::(\d{1,5}))?$/.exec(text);
  if (bracketed) return ipVersion(bracketed[1] as string) === 6 ? withPort(canonicalHost(bracketed[1] as string), bracketed[2]) : undefined;
  if (ipVersion(text) === 6) return { host: canonicalHost(text) };
  const [host = '', port, ...rest] = text.split(':');
  if (rest.length) return undefined;
  if (ipVersion(host) === 4) return withPort(host, port);
  if (host.length > 253 || !hostNamePattern.test(host) || /^\d+$/.test(host.split('.').pop() ?? '')) return undefined;
  return withPort(host, port);
}

function withPort(host: string, port: string | undefined): { host: string; port?: number } | undefined {
  if (port === undefined) return { host };
  const n = Number(port);
  return /^\d{1,5}$/.test(port) && n >= 1 && n <= 65_535 ? { host, port: n } : undefined;
}

/** A parsed rule written back in its one spelling (IPv6 in brackets when a port follows). */
export function formatHostRule({ host, port }: { host: string; port?: number }): string {
  const shown = ipVersion(host) === 6 ? `[${host}]` : host;
  return port === undefined ? (ipVersion(host) === 6 ? host : shown) : `${shown}:${port}`;
}

export const HostRuleSchema = z
  .string()
  .max(260)
  .refine((rule) => parseHostRule(rule) !== undefined, {
    message: 'a host rule is a domain (pypi.org), a wildcard (*.pythonhosted.org) or an IP address, optionally with :port',
  })
  .transform((rule) => formatHostRule(parseHostRule(rule) as { host: string; port?: number }))
  .describe('pypi.org, *.pythonhosted.org (any subdomain), 10.0.0.5, or any of them with :port');

export const HostRulesSchema = z.array(HostRuleSchema).max(256, 'at most 256 rules');

export const NetworkModeSchema = z
  .enum(['proxy', 'none'])
  .describe('proxy (default): traffic leaves only through the egress proxy, to allowed hosts; none: no network at all');
export type NetworkMode = z.infer<typeof NetworkModeSchema>;

export const SandboxNetworkInputSchema = z
  .object({
    mode: NetworkModeSchema.optional(),
    allow: HostRulesSchema.optional().describe('hosts the sandbox may reach; everything else is refused'),
    deny: HostRulesSchema.optional().describe('hosts refused even when an allow rule matches them'),
  })
  .strict();
export type SandboxNetworkInput = z.input<typeof SandboxNetworkInputSchema>;

export const NetworkUpdateSchema = z
  .object({
    allow: HostRulesSchema.optional().describe('rules to add to the allowlist (and drop from the denylist)'),
    deny: HostRulesSchema.optional().describe('rules to drop from the allowlist and add to the denylist'),
  })
  .strict()
  .refine((u) => (u.allow?.length ?? 0) + (u.deny?.length ?? 0) > 0, 'name at least one host to allow or deny');
export type NetworkUpdate = z.input<typeof NetworkUpdateSchema>;

export const ConnectionSchema = z.object({
  at: z.string().describe('ISO 8601, when it was decided'),
  via: z.enum(['http', 'connect', 'tls', 'dns']).describe('proxy request, CONNECT tunnel, redirected TLS, or a DNS lookup'),
  host: z.string(),
  port: z.number().int().nullable(),
  address: z.string().nullable().describe('the address the proxy connected to'),
  decision: z.enum(['allow', 'deny']),
  reason: z.string().nullable().describe('why it was refused'),
  intercepted: z.boolean().describe('HTTPS opened by the proxy (a secret is bound to the host)'),
  bytesOut: z.number().int(),
  bytesIn: z.number().int(),
  durationMs: z.number().nullable(),
});
export type ConnectionInfo = z.infer<typeof ConnectionSchema>;

export const SandboxNetworkSchema = z.object({
  mode: NetworkModeSchema,
  allow: z.array(z.string()),
  deny: z.array(z.string()),
  secrets: z.array(z.string()).describe('secrets whose placeholders the sandbox holds'),
  connections: z.array(ConnectionSchema).describe('recent connections, newest last'),
});
export type SandboxNetworkInfo = z.infer<typeof SandboxNetworkSchema>;

export const SecretNameSchema = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'secret names are environment variable names: letters, digits and "_"');

export const SecretSetSchema = z
  .object({
    value: z
      .string()
      .min(1)
      .max(65_536)
      .regex(/^[\t\x20-\x7e\x80-\xff]*$/, 'a secret goes into HTTP headers: no line breaks or control characters, no characters beyond Latin-1')
      .describe('the secret; never returned, never enters a sandbox'),
    hosts: z.array(HostRuleSchema).min(1, 'bind the secret to at least one host').max(64),
  })
  .strict();
export type SecretSet = z.input<typeof SecretSetSchema>;

export const SecretSchema = z.object({
  name: z.string(),
  hosts: z.array(z.string()).describe('the only hosts its value is sent to'),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type SecretInfo = z.infer<typeof SecretSchema>;
