import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import {
  BadRequestError,
  type FileEntry,
  FileMkdirSchema,
  FilePathQuerySchema,
  FileRemoveQuerySchema,
  FileRenameSchema,
  PayloadTooLargeError,
} from '@paddock/core';
import type { Context } from 'hono';
import type { ManagedProcess } from '../../commands/process-manager.js';
import type { SandboxRecord } from '../../store/sandbox-store.js';
import { type Caller, callerOf } from '../governed.js';
import type { HttpEnv } from '../http-env.js';
import { errorResponses, FileEntryResponse, json, SandboxIdParams } from '../schemas.js';
import type { Services } from '../services.js';

const tags = ['files'];
const WriteQuerySchema = FilePathQuerySchema.extend({
  mode: z
    .string()
    .regex(/^[0-7]{3,4}$/, 'mode is octal, e.g. 644')
    .optional(),
});

const readRoute = createRoute({
  method: 'get',
  path: '/v1/sandboxes/{id}/files',
  tags,
  summary: 'Download a file (streamed)',
  request: { params: SandboxIdParams, query: FilePathQuerySchema },
  responses: {
    200: { description: 'file bytes', content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } } },
    ...errorResponses,
  },
});

const writeRoute = createRoute({
  method: 'put',
  path: '/v1/sandboxes/{id}/files',
  tags,
  summary: 'Upload a file (streamed); parent directories are created; the file appears only once complete',
  request: {
    params: SandboxIdParams,
    query: WriteQuerySchema,
    body: { content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } }, required: true },
  },
  responses: { 200: json(FileEntryResponse, 'the written file'), 413: json(z.unknown(), 'larger than the upload limit'), ...errorResponses },
});

const listRoute = createRoute({
  method: 'get',
  path: '/v1/sandboxes/{id}/files/list',
  tags,
  summary: 'List a directory',
  request: { params: SandboxIdParams, query: FilePathQuerySchema },
  responses: { 200: json(z.object({ entries: z.array(FileEntryResponse) }), 'entries'), ...errorResponses },
});

const statRoute = createRoute({
  method: 'get',
  path: '/v1/sandboxes/{id}/files/stat',
  tags,
  summary: 'Describe a file, directory or symlink (not followed)',
  request: { params: SandboxIdParams, query: FilePathQuerySchema },
  responses: { 200: json(FileEntryResponse, 'the entry'), ...errorResponses },
});

const mkdirRoute = createRoute({
  method: 'post',
  path: '/v1/sandboxes/{id}/files/mkdir',
  tags,
  summary: 'Create a directory and its parents',
  request: { params: SandboxIdParams, body: { content: { 'application/json': { schema: FileMkdirSchema } }, required: true } },
  responses: { 200: json(FileEntryResponse, 'the directory'), ...errorResponses },
});

const renameRoute = createRoute({
  method: 'post',
  path: '/v1/sandboxes/{id}/files/rename',
  tags,
  summary: 'Rename or move a file or directory',
  request: { params: SandboxIdParams, body: { content: { 'application/json': { schema: FileRenameSchema } }, required: true } },
  responses: { 200: json(FileEntryResponse, 'the entry at its new path'), ...errorResponses },
});

const removeRoute = createRoute({
  method: 'delete',
  path: '/v1/sandboxes/{id}/files',
  tags,
  summary: 'Remove a file, or a directory (recursive=true for a non-empty one)',
  request: { params: SandboxIdParams, query: FileRemoveQuerySchema },
  responses: { 200: json(z.object({ removed: z.string() }), 'removed'), ...errorResponses },
});

const archiveGetRoute = createRoute({
  method: 'get',
  path: '/v1/sandboxes/{id}/archive',
  tags,
  summary: 'Download a file or directory as a tar stream (entries named after the last path element)',
  request: { params: SandboxIdParams, query: FilePathQuerySchema },
  responses: { 200: { description: 'tar', content: { 'application/x-tar': { schema: z.string().openapi({ format: 'binary' }) } } }, ...errorResponses },
});

const archivePutRoute = createRoute({
  method: 'put',
  path: '/v1/sandboxes/{id}/archive',
  tags,
  summary: 'Extract a tar stream into a directory (created if missing)',
  request: {
    params: SandboxIdParams,
    query: FilePathQuerySchema,
    body: { content: { 'application/x-tar': { schema: z.string().openapi({ format: 'binary' }) } }, required: true },
  },
  responses: { 200: json(FileEntryResponse, 'the directory'), ...errorResponses },
});

export function registerFileRoutes(app: OpenAPIHono<HttpEnv>, s: Services): void {
  const running = (c: Context<HttpEnv>, id: string) => s.sandboxes.requireRunning(c.get('principal').tenant, id);
  const where = (c: Context<HttpEnv>, id: string, path: string) => policyPath(s, c.get('principal').tenant, id, path);

  app.openapi(readRoute, async (c) => {
    const { id } = c.req.valid('param');
    const { path, user } = c.req.valid('query');
    const { entry, body } = await openSandboxFile(s, callerOf(c), id, path, user);
    c.get('signal').addEventListener('abort', () => body.destroy(), { once: true });
    return new Response(Readable.toWeb(body) as ReadableStream<Uint8Array>, {
      status: 200,
      // No content-length: the file may change while it streams (logs grow, /proc files claim size 0).
      headers: { 'content-type': 'application/octet-stream', 'x-paddock-size': String(entry.size), 'x-paddock-mode': entry.mode.toString(8) },
    });
  });

  app.openapi(writeRoute, async (c) => {
    const { id } = c.req.valid('param');
    const { path, user, mode } = c.req.valid('query');
    const entry = await writeSandboxFile(s, callerOf(c), id, path, limitedBody(c, s.limits.maxUploadBytes), {
      user,
      mode: mode ? Number.parseInt(mode, 8) : undefined,
    });
    return c.json(entry, 200);
  });

  app.openapi(listRoute, async (c) => {
    const { id } = c.req.valid('param');
    const { path, user } = c.req.valid('query');
    return c.json({ entries: await listSandboxFolder(s, callerOf(c), id, path, user) }, 200);
  });

  app.openapi(statRoute, async (c) => {
    const { id } = c.req.valid('param');
    const { path, user } = c.req.valid('query');
    const entry = await s.govern(c, { action: 'sandbox.file.read', resource: `sandbox:${id}`, context: { path: where(c, id, path), op: 'stat' } }, () =>
      s.files.stat(running(c, id), path, user),
    );
    return c.json(entry, 200);
  });

  app.openapi(mkdirRoute, async (c) => {
    const { id } = c.req.valid('param');
    const { path, user } = c.req.valid('json');
    const entry = await s.govern(c, { action: 'sandbox.file.write', resource: `sandbox:${id}`, context: { path: where(c, id, path), op: 'mkdir' } }, () =>
      s.files.mkdir(running(c, id), path, user),
    );
    return c.json(entry, 200);
  });

  app.openapi(renameRoute, async (c) => {
    const { id } = c.req.valid('param');
    const { from, to, user } = c.req.valid('json');
    const entry = await s.govern(
      c,
      { action: 'sandbox.file.write', resource: `sandbox:${id}`, context: { path: where(c, id, from), to: where(c, id, to), op: 'rename' } },
      () => s.files.rename(running(c, id), from, to, user),
    );
    return c.json(entry, 200);
  });

  app.openapi(removeRoute, async (c) => {
    const { id } = c.req.valid('param');
    const { path, user, recursive } = c.req.valid('query');
    const removed = await s.govern(
      c,
      { action: 'sandbox.file.write', resource: `sandbox:${id}`, context: { path: where(c, id, path), op: 'remove' } },
      async () => {
        const sandbox = running(c, id);
        await s.files.remove(sandbox, path, recursive === 'true' || recursive === '1', user);
        return s.files.resolve(sandbox, path);
      },
    );
    return c.json({ removed }, 200);
  });

  app.openapi(archiveGetRoute, async (c) => {
    const { id } = c.req.valid('param');
    const { path, user } = c.req.valid('query');
    const stream = await s.govern(
      c,
      { action: 'sandbox.file.read', resource: `sandbox:${id}`, context: { path: where(c, id, path), op: 'archive' } },
      async () => {
        const sandbox = running(c, id);
        const target = s.files.resolve(sandbox, path);
        await s.files.stat(sandbox, target, user);
        return tarStream(s, sandbox, ['tar', '-c', '-f', '-', '-C', dirnameOf(target), '--', basenameOf(target)], user, c.get('signal'));
      },
    );
    return new Response(stream, { status: 200, headers: { 'content-type': 'application/x-tar' } });
  });

  app.openapi(archivePutRoute, async (c) => {
    const { id } = c.req.valid('param');
    const { path, user } = c.req.valid('query');
    const entry = await s.govern(
      c,
      { action: 'sandbox.file.write', resource: `sandbox:${id}`, context: { path: where(c, id, path), op: 'extract' } },
      async () => {
        const sandbox = running(c, id);
        const dir = await s.files.mkdir(sandbox, path, user);
        const proc = await s.processes.start(sandbox, { cmd: ['tar', '-x', '--no-same-owner', '-f', '-', '-C', dir.path], user }, { keepStdinOpen: true });
        try {
          for await (const chunk of limitedBody(c, s.limits.maxUploadBytes)) await proc.write(Buffer.from(chunk));
        } catch (err) {
          proc.signal('SIGKILL');
          throw err;
        }
        proc.closeStdin();
        const exit = await proc.done;
        if (exit.exitCode !== 0) throw new BadRequestError(`tar could not extract the archive: ${proc.stderr.bytes().toString().trim()}`, {}, 'bad_archive');
        return dir;
      },
    );
    return c.json(entry, 200);
  });
}

/** The path a policy sees: the one the agent will act on, absolute, with `..` resolved (a relative one from the sandbox's workdir). */
export function policyPath(s: Services, tenant: string, id: string, path: string): string {
  try {
    return posix.resolve(s.sandboxes.get(tenant, id).workdir, path);
  } catch {
    return posix.resolve('/', path);
  }
}

/** Opens a file of sandbox `id` as `caller` (one decision, one record): GET …/files, and read_file of the daemon's MCP sessions. */
export function openSandboxFile(
  s: Services,
  caller: Caller,
  id: string,
  path: string,
  user: string | undefined,
): Promise<{ entry: FileEntry; body: Readable }> {
  const tenant = caller.principal.tenant;
  return s.governAs(caller, { action: 'sandbox.file.read', resource: `sandbox:${id}`, context: { path: policyPath(s, tenant, id, path) } }, () =>
    s.files.read(s.sandboxes.requireRunning(tenant, id), path, user),
  );
}

/** Writes a file of sandbox `id` as `caller`: PUT …/files, and write_file of the daemon's MCP sessions. */
export function writeSandboxFile(
  s: Services,
  caller: Caller,
  id: string,
  path: string,
  body: AsyncIterable<Uint8Array> | Uint8Array,
  options: { user?: string; mode?: number },
): Promise<FileEntry> {
  const tenant = caller.principal.tenant;
  return s.governAs(caller, { action: 'sandbox.file.write', resource: `sandbox:${id}`, context: { path: policyPath(s, tenant, id, path) } }, async () => {
    const sandbox = s.sandboxes.requireRunning(tenant, id);
    return s.files.write(sandbox, path, body, options);
  });
}

/** Lists a folder of sandbox `id` as `caller`: GET …/files/list, and list_files of the daemon's MCP sessions. */
export function listSandboxFolder(s: Services, caller: Caller, id: string, path: string, user: string | undefined): Promise<FileEntry[]> {
  const tenant = caller.principal.tenant;
  return s.governAs(caller, { action: 'sandbox.file.read', resource: `sandbox:${id}`, context: { path: policyPath(s, tenant, id, path), op: 'list' } }, () =>
    s.files.list(s.sandboxes.requireRunning(tenant, id), path, user),
  );
}

/** The request body as a stream that fails with 413 past `limit` bytes (probe D6). */
export async function* limitedBody(c: Context<HttpEnv>, limit: number): AsyncIterable<Uint8Array> {
  const declared = Number(c.req.header('content-length') ?? '0');
  if (declared > limit) throw new PayloadTooLargeError(limit);
  const body = c.req.raw.body;
  if (!body) return;
  let total = 0;
  // preventCancel: on a refusal the error handler reads the rest of the body (see app.ts).
  for await (const chunk of body.values({ preventCancel: true }) as AsyncIterable<Uint8Array>) {
    total += chunk.length;
    if (total > limit) throw new PayloadTooLargeError(limit);
    yield chunk;
  }
}

async function tarStream(
  s: Services,
  sandbox: SandboxRecord,
  cmd: string[],
  user: string | undefined,
  signal: AbortSignal,
): Promise<ReadableStream<Uint8Array>> {
  let controllerRef: ReadableStreamDefaultController<Uint8Array> | undefined;
  const subscriber = {
    push: (e: { type: string; data?: Buffer }) => {
      if (e.type === 'stdout' && e.data) controllerRef?.enqueue(new Uint8Array(e.data));
      if (e.type === 'exit') controllerRef?.close();
      return (controllerRef?.desiredSize ?? 1) > 0;
    },
  };
  const stream = new ReadableStream<Uint8Array>(
    {
      start: (controller) => {
        controllerRef = controller;
      },
      pull: () => proc?.unblock(subscriber),
      cancel: () => {
        proc?.unsubscribe(subscriber);
        proc?.signal('SIGKILL');
      },
    },
    { highWaterMark: 16 },
  );
  let proc: ManagedProcess | undefined;
  proc = await s.processes.start(sandbox, { cmd, user }, { subscriber, signal });
  return stream;
}

function dirnameOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

function basenameOf(p: string): string {
  const base = p.slice(p.lastIndexOf('/') + 1);
  return base === '' ? '.' : base;
}
