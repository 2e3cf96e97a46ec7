import { z } from 'zod';

/** Who drives a sandbox: its agent, or a person who took it over (and the terminal they hold). */
export const SandboxControlSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('agent') }),
  z.object({
    mode: z.literal('human'),
    by: z.string().describe('the token (principal id) that took over'),
    since: z.string().describe('ISO 8601'),
    sessionId: z.string().describe("the takeover's id; its recording is named by it"),
    pid: z.number().int().describe('the terminal process, attached at /v1/sandboxes/{id}/processes/{pid}/attach'),
  }),
]);
export type SandboxControl = z.infer<typeof SandboxControlSchema>;

export const TakeoverRequestSchema = z
  .object({
    cols: z.number().int().min(1).max(1000).optional().describe('terminal width (default 80)'),
    rows: z.number().int().min(1).max(1000).optional().describe('terminal height (default 24)'),
    cmd: z.array(z.string()).min(1).max(256).optional().describe("the terminal's program (default the login shell, /bin/bash -l)"),
  })
  .strict();
export type TakeoverRequest = z.infer<typeof TakeoverRequestSchema>;

export const TakeoverResponseSchema = z.object({ control: SandboxControlSchema, pid: z.number().int() });
export type TakeoverResponse = z.infer<typeof TakeoverResponseSchema>;

/** A takeover's terminal session, recorded as asciicast v2. */
export const RecordingSchema = z.object({
  sessionId: z.string(),
  by: z.string().describe('the token that took over'),
  startedAt: z.string().describe('ISO 8601'),
  endedAt: z.string().nullable().describe('null while the takeover goes on'),
  bytes: z.number().int().describe('size of the cast file'),
  sha256: z.string().nullable().describe('of the whole cast file, once it has ended (also in the sandbox.handback audit record)'),
  frames: z
    .number()
    .int()
    .optional()
    .describe('screenshots of a desktop taken over, kept while the person held it (GET /v1/sandboxes/{id}/recordings/{sessionId}/frames); absent when none'),
});
export type Recording = z.infer<typeof RecordingSchema>;

export const HandbackResponseSchema = z.object({
  control: SandboxControlSchema,
  recording: z.object({
    sessionId: z.string(),
    bytes: z.number().int(),
    sha256: z.string(),
    frames: z.number().int().optional().describe("a desktop's screen while it was held: how many frames were kept"),
    framesBytes: z.number().int().optional().describe('their size in all'),
  }),
});
export type HandbackResponse = z.infer<typeof HandbackResponseSchema>;

export const RecordingListSchema = z.object({ recordings: z.array(RecordingSchema) });

/** One kept frame of a desktop takeover. */
export const RecordingFrameSchema = z.object({
  index: z.number().int().describe('0, 1, 2 … in order; GET …/frames/{index} is its PNG'),
  atMs: z.number().int().describe('milliseconds since the takeover began'),
  bytes: z.number().int(),
});
export type RecordingFrame = z.infer<typeof RecordingFrameSchema>;

export const RecordingFramesSchema = z.object({
  sessionId: z.string(),
  intervalMs: z.number().int().describe('how often the screen was shot; a frame is kept only when it differs from the one before'),
  frames: z.array(RecordingFrameSchema),
});
export type RecordingFrames = z.infer<typeof RecordingFramesSchema>;
