import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { PaddockError, type TemplateBuildEvent, type TemplateInfo, TemplateNameSchema, TemplatePullSchema } from '@paddock/core';
import type { Principal } from '../../auth/token-auth.js';
import type { ImageEmit } from '../../images/image-service.js';
import { registryHostOf } from '../../images/skopeo.js';
import type { TemplateCaller } from '../../templates/template-service.js';
import type { HttpEnv } from '../http-env.js';
import { ndjsonHeaders, ndjsonStream, streamed } from '../ndjson.js';
import { errorResponses } from '../schemas.js';
import type { Services } from '../services.js';
import { limitedBody } from './file-routes.js';

const tags = ['templates'];
const progress = { description: 'NDJSON progress', content: { 'application/x-ndjson': { schema: z.string() } } };
const events =
  'Events: {"type":"step","index","total","text"} (reading the image, each layer, saving), {"type":"log","stream","data"}, ' +
  'then {"type":"done","template"} or {"type":"error","error"}.';

const pullRoute = createRoute({
  method: 'post',
  path: '/v1/templates/pull',
  tags,
  summary: 'Make a template from an OCI image in a registry (linux/amd64); streams progress as NDJSON',
  description: `${events} A name already used by another tenant or in use fails before the stream starts, with a 4xx.`,
  request: { body: { content: { 'application/json': { schema: TemplatePullSchema.meta({ id: 'TemplatePull' }) } }, required: true } },
  responses: { 200: progress, ...errorResponses },
});

const ImportQuery = z.object({ name: TemplateNameSchema.describe('name of the new template') });

const importRoute = createRoute({
  method: 'post',
  path: '/v1/templates/import',
  tags,
  summary: 'Make a template from an uploaded `docker save` or OCI layout archive; streams progress as NDJSON',
  description: `The body is the archive (at most the daemon's --max-image-size), read to its end before the stream starts. ${events}`,
  request: { query: ImportQuery, body: { content: { 'application/x-tar': { schema: z.string().openapi({ format: 'binary' }) } }, required: true } },
  responses: { 200: progress, 413: { description: 'larger than --max-image-size' }, ...errorResponses },
});

export function registerImageRoutes(app: OpenAPIHono<HttpEnv>, s: Services): void {
  app.openapi(pullRoute, async (c) => {
    const body = c.req.valid('json');
    const caller = callerOf(c.get('principal'));
    s.templates.requireReplaceable(body.name, caller);
    return streamed(
      progressResponse((emit, signal) =>
        s.govern(
          c,
          { action: 'template.build', resource: `template:${body.name}`, context: { from: 'image', image: body.image, host: registryHostOf(body.image) } },
          () => s.images.pull(body, caller, emit, signal),
        ),
      ),
    );
  });

  app.openapi(importRoute, async (c) => {
    const { name } = c.req.valid('query');
    const caller = callerOf(c.get('principal'));
    s.templates.requireReplaceable(name, caller);
    // The archive goes to a private work folder first: skopeo reads it from there, and it is gone afterwards whatever happens.
    const work = await s.images.workDir();
    const archive = join(work, 'upload.tar');
    try {
      await pipeline(Readable.from(limitedBody(c, s.limits.maxImageBytes)), createWriteStream(archive, { mode: 0o600 }), { signal: c.get('signal') });
    } catch (err) {
      await rm(work, { recursive: true, force: true });
      throw err;
    }
    return streamed(
      progressResponse(async (emit, signal) => {
        try {
          return await s.govern(c, { action: 'template.build', resource: `template:${name}`, context: { from: 'archive' } }, () =>
            s.images.importArchive({ name, archive, label: `archive ${name}` }, caller, emit, signal),
          );
        } finally {
          await rm(work, { recursive: true, force: true });
        }
      }),
    );
  });
}

/** Runs the work as the stream starts; the client going away aborts it (and the work leaves nothing behind). */
function progressResponse(run: (emit: ImageEmit, signal: AbortSignal) => Promise<TemplateInfo>): Response {
  const abort = new AbortController();
  const stream = ndjsonStream(
    (sink) => {
      const emit = (e: TemplateBuildEvent) => void sink.send(e);
      run(emit, abort.signal).then(
        () => sink.close(),
        (err: unknown) => {
          const e = err instanceof PaddockError ? err : new PaddockError('internal_error', 500, 'making the template from the image failed');
          sink.send({ type: 'error', error: { code: e.code, message: e.message, details: e.details } });
          sink.close();
        },
      );
    },
    { onCancel: () => abort.abort() },
  );
  return new Response(stream, { status: 200, headers: ndjsonHeaders() });
}

function callerOf(p: Principal): TemplateCaller {
  return { tenant: p.tenant, admin: p.role === 'admin' };
}
