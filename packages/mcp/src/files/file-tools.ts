import { FileEntrySchema, FilePathQuerySchema, SandboxIdSchema } from '@paddock/core';
import { BadRequestError } from '@paddock/core/client';
import { z } from 'zod';
import { outputLimits } from '../results/output-limits.js';
import { registerTool } from '../tools/register-tool.js';
import type { ToolContext } from '../tools/tool-context.js';
import type { ToolTable } from '../tools/tool-table.js';
import { EncodingSchema, fileContent } from './file-content.js';

const sandboxId = SandboxIdSchema.describe('the sandbox (from sandbox_create)');
const path = FilePathQuerySchema.shape.path.describe('absolute, or relative to the sandbox’s working directory (/work in base)');
const user = FilePathQuerySchema.shape.user.describe('whose permissions apply: "root" (default), "user" or a uid');

const ReadInput = z
  .object({
    sandboxId,
    path,
    user,
    encoding: EncodingSchema.optional().describe('utf8 or base64; default: utf8 for text, base64 for binary'),
  })
  .strict();
const ReadOutput = z.object({
  path: z.string(),
  size: z.number().int().describe('bytes returned'),
  encoding: EncodingSchema,
  content: z.string(),
  truncated: z.boolean().describe(`true when the file is longer than ${outputLimits.fileBytes} bytes and only its start is returned`),
});

const WriteInput = z
  .object({
    sandboxId,
    path: path.describe('where to write; parent folders are created'),
    content: z.string().max(outputLimits.writeChars).describe(`at most ${outputLimits.writeChars} characters; larger files go in parts or with run_command`),
    encoding: EncodingSchema.default('utf8').describe('utf8 (default) or base64 for binary data'),
    mode: z.number().int().min(0).max(0o7777).optional().describe('permission bits, e.g. 493 (0o755) for a script'),
    user,
  })
  .strict();

const ListInput = z.object({ sandboxId, path: path.default('.'), user }).strict();
const ListOutput = z.object({ entries: z.array(FileEntrySchema), truncated: z.boolean() });

/** read_file, write_file, list_files. */
export function registerFileTools(tools: ToolTable, context: ToolContext): void {
  registerTool(
    tools,
    context,
    'read_file',
    {
      title: 'Read a file',
      description: `Reads a file from a sandbox: text, or base64 for binary data. At most ${outputLimits.fileBytes} bytes (the start of a longer file, marked truncated).`,
      input: ReadInput,
      output: ReadOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async (args, signal) => {
      const { bytes, truncated } = await context.backend.readFileHead(args.sandboxId, args.path, outputLimits.fileBytes, { user: args.user, signal });
      return { path: args.path, size: bytes.byteLength, ...fileContent(bytes, { encoding: args.encoding, truncated }), truncated };
    },
  );

  registerTool(
    tools,
    context,
    'write_file',
    {
      title: 'Write a file',
      description: 'Writes a file in a sandbox (replacing it if it exists; parent folders are created). Content is text, or base64 with encoding "base64".',
      input: WriteInput,
      output: FileEntrySchema,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    async (args, signal) => {
      const data = args.encoding === 'base64' ? decodeBase64(args.content) : new TextEncoder().encode(args.content);
      return context.backend.writeFile(args.sandboxId, args.path, data, { mode: args.mode, user: args.user, signal });
    },
  );

  registerTool(
    tools,
    context,
    'list_files',
    {
      title: 'List a folder',
      description: `Lists a folder of a sandbox: name, path, type, size, mode and modification time of each entry (at most ${outputLimits.listEntries}).`,
      input: ListInput,
      output: ListOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async (args, signal) => {
      const entries = await context.backend.listFiles(args.sandboxId, args.path, { user: args.user, signal });
      return { entries: entries.slice(0, outputLimits.listEntries), truncated: entries.length > outputLimits.listEntries };
    },
  );
}

function decodeBase64(text: string): Uint8Array {
  const compact = text.replace(/\s+/g, '');
  if (!z.base64().safeParse(compact).success)
    throw new BadRequestError('content is not valid base64', { fields: [{ path: 'content', message: 'not base64' }] });
  return Buffer.from(compact, 'base64');
}
