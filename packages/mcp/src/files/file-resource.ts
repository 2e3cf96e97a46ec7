import { type McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { FilePathQuerySchema, SandboxIdSchema } from '@paddock/core';
import { PaddockError } from '@paddock/core/client';
import { Sandbox } from '@paddock/sdk';
import { describeError } from '../results/describe-error.js';
import { outputLimits } from '../results/output-limits.js';
import type { ToolContext } from '../tools/tool-context.js';
import { fileContent } from './file-content.js';
import { mimeTypeOf } from './mime-type.js';

export const sandboxFileUriTemplate = 'paddock://sandboxes/{id}/files/{+path}';

// The MCP specification's code for a resource that does not exist.
const resourceNotFound = -32002;

/** paddock://sandboxes/{id}/files/{+path}: a sandbox's file, read through the context's backend (`…/files/work/out.csv` is /work/out.csv). */
export function registerFileResource(server: McpServer, context: ToolContext): void {
  const template = new ResourceTemplate(sandboxFileUriTemplate, {
    // A sandbox's files are too many to enumerate; clients name the one they want.
    list: undefined,
    complete: {
      id: async (prefix) => (await Sandbox.list(context.connection)).map((s) => s.id).filter((id) => id.startsWith(prefix)),
    },
  });
  server.registerResource(
    'sandbox-file',
    template,
    {
      title: 'A file in a sandbox',
      description: `A file of a running sandbox, e.g. paddock://sandboxes/sb-…/files/work/out.csv for /work/out.csv; text, or a blob when binary; at most ${outputLimits.fileBytes} bytes.`,
    },
    (uri, variables, extra) => context.work.track(readFileResource(context, uri, variables, extra.signal)),
  );
}

async function readFileResource(context: ToolContext, uri: URL, variables: Record<string, string | string[]>, signal: AbortSignal) {
  const id = SandboxIdSchema.safeParse(variables.id);
  const path = FilePathQuerySchema.shape.path.safeParse(decodePath(variables.path));
  if (!id.success || !path.success)
    throw new McpError(ErrorCode.InvalidParams, `invalid_request: ${uri.href} does not name a sandbox file (${sandboxFileUriTemplate})`);
  try {
    const { bytes, truncated } = await context.backend.readFileHead(id.data, path.data, outputLimits.fileBytes, { signal });
    const { encoding, content } = fileContent(bytes, { truncated });
    const mimeType = mimeTypeOf(path.data, encoding === 'utf8');
    const _meta = truncated ? { truncated: true, note: `only the first ${outputLimits.fileBytes} bytes` } : undefined;
    return { contents: [encoding === 'utf8' ? { uri: uri.href, mimeType, text: content, _meta } : { uri: uri.href, mimeType, blob: content, _meta }] };
  } catch (err) {
    // Resource reads answer with a JSON-RPC error; its message is the same one line as a tool error's.
    throw new McpError(jsonRpcCode(err), describeError(err), { uri: uri.href });
  }
}

/** The path variable of the URI, absolute and percent-decoded; undefined when it cannot be decoded. */
function decodePath(value: string | string[] | undefined): string | undefined {
  try {
    return `/${decodeURIComponent(String(value ?? ''))}`;
  } catch {
    return undefined;
  }
}

function jsonRpcCode(err: unknown): number {
  if (!(err instanceof PaddockError)) return ErrorCode.InternalError;
  if (err.status === 404) return resourceNotFound;
  if (err.status === 400) return ErrorCode.InvalidParams;
  return ErrorCode.InternalError;
}
