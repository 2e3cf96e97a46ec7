import { z } from 'zod';

const text = z.string();
const cut = z.boolean().optional();

/**
 * What a context's driver may say, one JSON object a line. The driver runs
 * inside the sandbox, so each line is checked against this and dropped when
 * it does not fit; `id` ties a message to the cell the daemon asked for.
 */
export const DriverMessageSchema = z.discriminatedUnion('t', [
  z.object({ t: z.literal('ready'), pid: z.number().int() }),
  z.object({ t: z.literal('failed'), id: z.string().optional(), message: text }),
  z.object({ t: z.literal('stream'), id: z.string(), name: z.enum(['stdout', 'stderr']), text, cut }),
  z.object({ t: z.literal('result'), id: z.string(), main: z.boolean(), data: z.record(z.string(), text), cut }),
  z.object({ t: z.literal('error'), id: z.string(), name: text, value: text, traceback: z.array(text).max(1000) }),
  z.object({ t: z.literal('end'), id: z.string(), count: z.number().int().nullable(), status: z.string() }),
  z.object({ t: z.literal('dead'), id: z.string(), message: text.optional() }),
  z.object({ t: z.literal('restarted'), id: z.string() }),
]);
export type DriverMessage = z.infer<typeof DriverMessageSchema>;
