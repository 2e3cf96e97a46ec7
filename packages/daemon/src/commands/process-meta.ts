import { z } from '@hono/zod-openapi';
import { CommandStartSchema, PtySizeSchema } from '@paddock/core';

/**
 * What the daemon leaves with the agent beside each command it starts, so a
 * daemon restarted after a crash can list and govern the command again. It
 * comes back from inside the sandbox, so it is parsed like any sandbox output:
 * a forged or broken one shows the command with an empty argv, never fails.
 */
export const ProcessMetaSchema = z.object({
  cmd: CommandStartSchema.shape.cmd,
  cwd: z.string().max(4096).nullable(),
  user: z.string().max(32),
  pty: PtySizeSchema.nullable(),
  startedAt: z.iso.datetime(),
  timeoutMs: z.number().int().min(1).max(86_400_000).nullable(),
  oomBefore: z.number().int().min(0).nullable(),
});
export type ProcessMeta = z.infer<typeof ProcessMetaSchema>;

/** The agent keeps at most this much of it (MAX_META in paddock-agent.c); a longer argv is cut to fit. */
const maxMetaBytes = 65_536;

export function encodeProcessMeta(meta: ProcessMeta): string {
  const text = JSON.stringify(meta);
  if (Buffer.byteLength(text) <= maxMetaBytes) return text;
  return JSON.stringify({ ...meta, cmd: [meta.cmd[0]?.slice(0, 4096) ?? '', '…'] });
}

export function parseProcessMeta(text: string): ProcessMeta {
  try {
    const parsed = ProcessMetaSchema.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data;
  } catch {
    // not JSON: shown as unknown below
  }
  return { cmd: [], cwd: null, user: 'root', pty: null, startedAt: new Date().toISOString(), timeoutMs: null, oomBefore: null };
}
