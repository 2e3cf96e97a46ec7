import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { BadRequestError, type FileEntry, PaddockError, PayloadTooLargeError } from '@paddock/core';
import type { Context } from 'hono';
import type { HttpEnv } from '../../http/http-env.js';
import { limitedBody } from '../../http/routes/file-routes.js';
import type { Services } from '../../http/services.js';
import { absolutePath, type EnvdCall, runningSandbox } from './envd-call.js';

/** Files one multipart upload may carry. */
const maxFilesPerUpload = 1000;

/**
 * envd's `GET /files`: the file as it streams from the agent, governed as
 * the native download (`sandbox.file.read` with the absolute path).
 */
export async function downloadFile(s: Services, c: Context<HttpEnv>, call: EnvdCall): Promise<Response> {
  const path = c.req.query('path') ?? '';
  const at = absolutePath(path, call.user, runningSandbox(s, call));
  const { body } = await s.govern(
    c,
    { action: 'sandbox.file.read', resource: `sandbox:${call.sandboxId}`, context: { path: at }, precheck: () => runningSandbox(s, call) },
    () => s.files.read(runningSandbox(s, call), at, call.user),
  );
  c.get('signal').addEventListener('abort', () => body.destroy(), { once: true });
  return new Response(Readable.toWeb(body) as ReadableStream<Uint8Array>, {
    status: 200,
    headers: { 'content-type': 'application/octet-stream', 'content-disposition': `attachment; filename="${encodeURIComponent(at.split('/').at(-1) ?? '')}"` },
  });
}

/**
 * envd's `POST /files` in the forms the SDKs send: multipart/form-data with
 * one or more `file` parts (each part's filename is its path when the query
 * names none), or one file as application/octet-stream (gzip when
 * Content-Encoding says so). Each file is its own governed
 * `sandbox.file.write`. Sizes are bounded like the native upload's: the
 * body, and a gzip body once inflated.
 */
export async function uploadFiles(s: Services, c: Context<HttpEnv>, call: EnvdCall): Promise<Response> {
  const sandbox = runningSandbox(s, call);
  const queryPath = c.req.query('path');
  const limit = s.limits.maxUploadBytes;
  const type = (c.req.header('content-type') ?? '').toLowerCase();
  const written: FileEntry[] = [];
  if (type.startsWith('multipart/form-data')) {
    const form = await formOf(c, limit);
    const parts = form.getAll('file').filter((p) => typeof p !== 'string') as { name: string; arrayBuffer(): Promise<ArrayBuffer> }[];
    if (parts.length === 0) throw new BadRequestError('the form has no "file" part', {}, 'bad_request');
    if (parts.length > maxFilesPerUpload) throw new BadRequestError(`at most ${maxFilesPerUpload} files per upload`, {}, 'bad_request');
    if (parts.length > 1 && queryPath) throw new BadRequestError('several files need a path each (their part filenames), not ?path=', {}, 'bad_request');
    for (const part of parts) {
      const at = absolutePath(queryPath ?? part.name, call.user, sandbox);
      written.push(await writeOne(s, c, call, at, new Uint8Array(await part.arrayBuffer())));
    }
  } else {
    if (!queryPath) throw new BadRequestError('an octet-stream upload names its file with ?path=', {}, 'bad_request');
    const at = absolutePath(queryPath, call.user, sandbox);
    const encoding = (c.req.header('content-encoding') ?? 'identity').toLowerCase();
    if (encoding !== 'identity' && encoding !== 'gzip') throw new BadRequestError(`unsupported Content-Encoding ${encoding}`, {}, 'bad_request');
    const raw = limitedBody(c, limit);
    const body = encoding === 'gzip' ? inflated(raw, limit) : raw;
    written.push(await writeOne(s, c, call, at, body));
  }
  return c.json(
    written.map((e) => ({ name: e.name, type: e.type === 'dir' ? 'dir' : 'file', path: e.path })),
    200,
  );
}

async function writeOne(s: Services, c: Context<HttpEnv>, call: EnvdCall, at: string, body: AsyncIterable<Uint8Array> | Uint8Array): Promise<FileEntry> {
  return s.govern(
    c,
    { action: 'sandbox.file.write', resource: `sandbox:${call.sandboxId}`, context: { path: at }, precheck: () => runningSandbox(s, call) },
    () => s.files.write(runningSandbox(s, call), at, body, { user: call.user }),
  );
}

/** The multipart body, read whole (the parts need it) but never past the upload limit. */
async function formOf(c: Context<HttpEnv>, limit: number): Promise<FormData> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of limitedBody(c, limit)) chunks.push(chunk);
  try {
    return await new Response(Buffer.concat(chunks), { headers: { 'content-type': c.req.header('content-type') ?? '' } }).formData();
  } catch {
    throw new BadRequestError('the multipart body could not be read', {}, 'bad_request');
  }
}

/** A gzip body inflated as it streams, failing once the inflated bytes pass `limit` (a small bomb stays small). */
async function* inflated(body: AsyncIterable<Uint8Array>, limit: number): AsyncIterable<Uint8Array> {
  const gunzip = createGunzip();
  const source = Readable.from(body);
  source.on('error', (err) => gunzip.destroy(err));
  source.pipe(gunzip);
  let total = 0;
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > limit) throw new PayloadTooLargeError(limit);
      yield chunk;
    }
  } catch (err) {
    if (err instanceof PaddockError) throw err;
    throw new BadRequestError('the gzip body is not valid gzip', {}, 'bad_request');
  } finally {
    source.destroy();
    gunzip.destroy();
  }
}
