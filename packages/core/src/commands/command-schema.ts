import { z } from 'zod';
import { commandTimeoutBounds } from '../limits/bounds.js';
import { EnvSchema } from '../sandboxes/sandbox-schema.js';

export const PtySizeSchema = z.object({ cols: z.number().int().min(1).max(1000), rows: z.number().int().min(1).max(1000) }).strict();

export const CommandStartSchema = z
  .object({
    cmd: z.array(z.string().max(131_072)).min(1, 'cmd needs at least the program name').max(4000).describe('argv; never interpreted by a shell'),
    env: EnvSchema.optional(),
    cwd: z.string().max(4096).optional(),
    user: z
      .string()
      .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$/)
      .optional()
      .describe('"root" (default), "user" (uid 1000) or a uid'),
    stdin: z.string().max(1_048_576).optional().describe('text written to stdin, which is then closed; omit to keep stdin open (attach) or closed (run)'),
    timeoutMs: z.number().int().min(commandTimeoutBounds.min).max(commandTimeoutBounds.max).optional().describe('the command is killed after this long'),
    pty: PtySizeSchema.optional().describe('run on a pseudo-terminal of this size'),
  })
  .strict();
export type CommandStart = z.infer<typeof CommandStartSchema>;

export const ProcessStateSchema = z.enum(['running', 'exited']);

export const CommandResultSchema = z.object({
  pid: z.number().int(),
  exitCode: z.number().int(),
  signal: z.string().nullable().describe('signal that ended the command, e.g. SIGKILL'),
  oomKilled: z.boolean(),
  timedOut: z.boolean(),
  stdout: z.string(),
  stderr: z.string(),
  truncated: z.boolean().describe('true when output exceeded the kept maximum and only its tail is shown'),
});
export type CommandResult = z.infer<typeof CommandResultSchema>;

export const ProcessInfoSchema = z.object({
  pid: z.number().int(),
  cmd: z.array(z.string()),
  cwd: z.string().nullable(),
  user: z.string(),
  pty: z.boolean(),
  state: ProcessStateSchema,
  startedAt: z.string(),
  exitCode: z.number().int().nullable(),
  signal: z.string().nullable(),
  oomKilled: z.boolean(),
  timedOut: z.boolean(),
});
export type ProcessInfo = z.infer<typeof ProcessInfoSchema>;

export const SignalNameSchema = z.enum(['SIGTERM', 'SIGKILL', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGSTOP', 'SIGCONT']);
export const ProcessSignalSchema = z.object({ signal: SignalNameSchema.default('SIGKILL') }).strict();
export const ProcessStdinSchema = z.object({ data: z.string().max(1_048_576).default(''), eof: z.boolean().default(false) }).strict();

/**
 * Events of the NDJSON stream returned by `POST /v1/sandboxes/{id}/exec` and
 * `GET …/processes/{pid}/output`. Output data is base64 so binary survives.
 */
export type CommandEvent =
  | { type: 'start'; pid: number }
  | { type: 'stdout' | 'stderr'; data: string }
  /** Output of a stream no longer kept, before what follows (output of /processes/{pid}/output only). */
  | { type: 'dropped'; stream: 'stdout' | 'stderr'; bytes: number }
  | { type: 'exit'; result: Omit<CommandResult, 'stdout' | 'stderr'> & { truncated: boolean } }
  | { type: 'error'; error: { code: string; message: string; details?: Record<string, unknown> } };

/** Messages a WebSocket attach client sends as text frames; binary frames are stdin. */
export const AttachClientMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('resize'), cols: z.number().int(), rows: z.number().int() }),
  z.object({ type: z.literal('eof') }),
  z.object({ type: z.literal('signal'), signal: SignalNameSchema }),
]);
export type AttachClientMessage = z.infer<typeof AttachClientMessageSchema>;

/** Server → client: binary frames carry output with a first byte 1 (stdout) or 2 (stderr); text frames are JSON. */
export const AttachServerMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('exit'), result: CommandResultSchema.omit({ stdout: true, stderr: true }) }),
  z.object({ type: z.literal('error'), error: z.object({ code: z.string(), message: z.string() }) }),
]);
export type AttachServerMessage = z.infer<typeof AttachServerMessageSchema>;
