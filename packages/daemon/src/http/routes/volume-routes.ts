import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { FilePathQuerySchema, FileRemoveQuerySchema, SandboxPathSchema, VolumeCreateSchema, VolumeSchema, volumeNamePattern } from '@paddock/core';
import type { HttpEnv } from '../http-env.js';
import { loadOnFirstUse } from '../load-on-first-use.js';
import { errorResponses, FileEntryResponse, json } from '../schemas.js';
import type { Services } from '../services.js';
import { limitedBody } from './file-routes.js';

const tags = ['volumes'];
const VolumeResponse = VolumeSchema.meta({ id: 'Volume' });
const VolumeCreateRequest = VolumeCreateSchema.meta({ id: 'VolumeCreate' });
const NameParams = z.object({
  name: z
    .string()
    .regex(volumeNamePattern)
    .openapi({ param: { name: 'name', in: 'path' }, example: 'repo' }),
});
// No `user`: a volume's files are reached as root of the volume, and what is created belongs to the sandbox's `user`.
const PathQuery = FilePathQuerySchema.pick({ path: true });
const WriteQuery = PathQuery.extend({
  mode: z
    .string()
    .regex(/^[0-7]{3,4}$/, 'mode is octal, e.g. 644')
    .optional(),
});
const RemoveQuery = FileRemoveQuerySchema.pick({ path: true, recursive: true });
const MkdirBody = z.object({ path: SandboxPathSchema }).strict();

const createVolume = createRoute({
  method: 'post',
  path: '/v1/volumes',
  tags,
  summary: "Create a volume: an empty file system of the tenant's with a hard size limit",
  request: { body: { content: { 'application/json': { schema: VolumeCreateRequest } }, required: true } },
  responses: { 201: json(VolumeResponse, 'the volume'), ...errorResponses },
});

const listVolumes = createRoute({
  method: 'get',
  path: '/v1/volumes',
  tags,
  summary: "List the tenant's volumes",
  responses: { 200: json(z.object({ volumes: z.array(VolumeResponse) }), 'volumes'), ...errorResponses },
});

const getVolume = createRoute({
  method: 'get',
  path: '/v1/volumes/{name}',
  tags,
  summary: 'Inspect a volume: its size, use and the sandboxes it is mounted in',
  request: { params: NameParams },
  responses: { 200: json(VolumeResponse, 'the volume'), ...errorResponses },
});

const removeVolume = createRoute({
  method: 'delete',
  path: '/v1/volumes/{name}',
  tags,
  summary: 'Remove a volume and its files; refused (409 volume_in_use) while a live sandbox mounts it',
  request: { params: NameParams },
  responses: { 200: json(z.object({ removed: z.string() }), 'removed'), ...errorResponses },
});

const readFile = createRoute({
  method: 'get',
  path: '/v1/volumes/{name}/files',
  tags,
  summary: 'Download a file of a volume (streamed); symlinks are not followed',
  request: { params: NameParams, query: PathQuery },
  responses: {
    200: { description: 'file bytes', content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } } },
    ...errorResponses,
  },
});

const writeFile = createRoute({
  method: 'put',
  path: '/v1/volumes/{name}/files',
  tags,
  summary: 'Upload a file to a volume (streamed); parent folders are created; the file appears only once complete',
  request: {
    params: NameParams,
    query: WriteQuery,
    body: { content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } }, required: true },
  },
  responses: { 200: json(FileEntryResponse, 'the written file'), 413: json(z.unknown(), 'larger than the upload limit'), ...errorResponses },
});

const removeFile = createRoute({
  method: 'delete',
  path: '/v1/volumes/{name}/files',
  tags,
  summary: 'Remove a file or folder of a volume (recursive=true for a non-empty one)',
  request: { params: NameParams, query: RemoveQuery },
  responses: { 200: json(z.object({ removed: z.string() }), 'removed'), ...errorResponses },
});

const listFiles = createRoute({
  method: 'get',
  path: '/v1/volumes/{name}/files/list',
  tags,
  summary: 'List a folder of a volume',
  request: { params: NameParams, query: PathQuery },
  responses: { 200: json(z.object({ entries: z.array(FileEntryResponse) }), 'entries'), ...errorResponses },
});

const statFile = createRoute({
  method: 'get',
  path: '/v1/volumes/{name}/files/stat',
  tags,
  summary: 'Describe a file, folder or symlink (not followed) of a volume',
  request: { params: NameParams, query: PathQuery },
  responses: { 200: json(FileEntryResponse, 'the entry'), ...errorResponses },
});

const mkdirFile = createRoute({
  method: 'post',
  path: '/v1/volumes/{name}/files/mkdir',
  tags,
  summary: 'Create a folder of a volume and its parents',
  request: { params: NameParams, body: { content: { 'application/json': { schema: MkdirBody } }, required: true } },
  responses: { 200: json(FileEntryResponse, 'the folder'), ...errorResponses },
});

const exportArchive = createRoute({
  method: 'get',
  path: '/v1/volumes/{name}/export',
  tags,
  summary: 'Download a whole volume as a tar stream: folders, files and symlinks (never followed); FIFOs and devices are left out',
  request: { params: NameParams },
  responses: { 200: { description: 'tar', content: { 'application/x-tar': { schema: z.string().openapi({ format: 'binary' }) } } }, ...errorResponses },
});

const importArchive = createRoute({
  method: 'put',
  path: '/v1/volumes/{name}/import',
  tags,
  summary:
    'Extract a tar stream into a volume: files and folders only, every path inside the volume, no setuid bits; links, devices and FIFOs are left out and named',
  request: {
    params: NameParams,
    body: { content: { 'application/x-tar': { schema: z.string().openapi({ format: 'binary' }) } }, required: true },
  },
  responses: {
    200: json(z.object({ files: z.number().int(), dirs: z.number().int(), skipped: z.array(z.string()) }), 'what was written'),
    413: json(z.unknown(), 'larger than the upload limit'),
    ...errorResponses,
  },
});

export function registerVolumeRoutes(app: OpenAPIHono<HttpEnv>, s: Services): void {
  // The tar code loads with the first export or import.
  const archives = loadOnFirstUse('volume archives', () => import('../../volumes/volume-archive.js'));
  app.openapi(createVolume, async (c) => {
    const body = c.req.valid('json');
    const context = { sizeMiB: body.sizeMiB, ...(body.from ? { template: body.from.template, path: body.from.path } : {}) };
    const volume = await s.govern(c, { action: 'volume.create', resource: `volume:${body.name}`, context }, () =>
      s.volumes.create(c.get('principal').tenant, body, { signal: c.get('signal') }),
    );
    return c.json(volume, 201);
  });

  app.openapi(listVolumes, async (c) => {
    const volumes = await s.govern(c, { action: 'volume.list', resource: 'volume:*' }, () => s.volumes.list(c.get('principal').tenant));
    return c.json({ volumes }, 200);
  });

  app.openapi(getVolume, async (c) => {
    const { name } = c.req.valid('param');
    const volume = await s.govern(c, { action: 'volume.get', resource: `volume:${name}` }, () => s.volumes.get(c.get('principal').tenant, name));
    return c.json(volume, 200);
  });

  app.openapi(removeVolume, async (c) => {
    const { name } = c.req.valid('param');
    await s.govern(c, { action: 'volume.delete', resource: `volume:${name}` }, () => s.volumes.remove(c.get('principal').tenant, name));
    return c.json({ removed: name }, 200);
  });

  app.openapi(exportArchive, async (c) => {
    const { name } = c.req.valid('param');
    const body = await s.govern(c, { action: 'volume.read', resource: `volume:${name}`, context: { path: '/', op: 'export' } }, async () => {
      const files = s.volumes.files(c.get('principal').tenant, name);
      // Checked before the answer starts: a volume that is not mounted is a 503, not a broken stream.
      await files.stat('/');
      return (await archives(c.get('logger'))).exportVolume(files);
    });
    c.get('signal').addEventListener('abort', () => body.destroy(), { once: true });
    return new Response(Readable.toWeb(body) as ReadableStream<Uint8Array>, { status: 200, headers: { 'content-type': 'application/x-tar' } });
  });

  app.openapi(importArchive, async (c) => {
    const { name } = c.req.valid('param');
    const result = await s.govern(c, { action: 'volume.write', resource: `volume:${name}`, context: { path: '/', op: 'import' } }, async () =>
      (await archives(c.get('logger'))).importVolume(s.volumes.files(c.get('principal').tenant, name), limitedBody(c, s.limits.maxUploadBytes)),
    );
    return c.json(result, 200);
  });

  app.openapi(readFile, async (c) => {
    const { name } = c.req.valid('param');
    const { path } = c.req.valid('query');
    const { entry, body } = await s.govern(c, { action: 'volume.read', resource: `volume:${name}`, context: { path: where(path) } }, () =>
      s.volumes.files(c.get('principal').tenant, name).read(path),
    );
    c.get('signal').addEventListener('abort', () => body.destroy(), { once: true });
    return new Response(Readable.toWeb(body) as ReadableStream<Uint8Array>, {
      status: 200,
      headers: { 'content-type': 'application/octet-stream', 'x-paddock-size': String(entry.size), 'x-paddock-mode': entry.mode.toString(8) },
    });
  });

  app.openapi(writeFile, async (c) => {
    const { name } = c.req.valid('param');
    const { path, mode } = c.req.valid('query');
    const entry = await s.govern(c, { action: 'volume.write', resource: `volume:${name}`, context: { path: where(path) } }, () =>
      s.volumes.files(c.get('principal').tenant, name).write(path, limitedBody(c, s.limits.maxUploadBytes), mode ? Number.parseInt(mode, 8) : undefined),
    );
    return c.json(entry, 200);
  });

  app.openapi(removeFile, async (c) => {
    const { name } = c.req.valid('param');
    const { path, recursive } = c.req.valid('query');
    const removed = await s.govern(c, { action: 'volume.write', resource: `volume:${name}`, context: { path: where(path), op: 'remove' } }, () =>
      s.volumes.files(c.get('principal').tenant, name).remove(path, recursive === 'true' || recursive === '1'),
    );
    return c.json({ removed }, 200);
  });

  app.openapi(listFiles, async (c) => {
    const { name } = c.req.valid('param');
    const { path } = c.req.valid('query');
    const entries = await s.govern(c, { action: 'volume.read', resource: `volume:${name}`, context: { path: where(path), op: 'list' } }, () =>
      s.volumes.files(c.get('principal').tenant, name).list(path),
    );
    return c.json({ entries }, 200);
  });

  app.openapi(statFile, async (c) => {
    const { name } = c.req.valid('param');
    const { path } = c.req.valid('query');
    const entry = await s.govern(c, { action: 'volume.read', resource: `volume:${name}`, context: { path: where(path), op: 'stat' } }, () =>
      s.volumes.files(c.get('principal').tenant, name).stat(path),
    );
    return c.json(entry, 200);
  });

  app.openapi(mkdirFile, async (c) => {
    const { name } = c.req.valid('param');
    const { path } = c.req.valid('json');
    const entry = await s.govern(c, { action: 'volume.write', resource: `volume:${name}`, context: { path: where(path), op: 'mkdir' } }, () =>
      s.volumes.files(c.get('principal').tenant, name).mkdir(path),
    );
    return c.json(entry, 200);
  });
}

/** The path as the volume sees it, for policies and the audit log: absolute, `..` resolved. */
function where(path: string): string {
  return posix.resolve('/', path);
}
