import { readFile } from 'node:fs/promises';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import {
  HandbackResponseSchema,
  NotFoundError,
  RecordingFramesSchema,
  RecordingListSchema,
  TakeoverRequestSchema,
  TakeoverResponseSchema,
} from '@paddock/core';
import { framePath, listFrames } from '../../takeover/frame-recorder.js';
import type { HttpEnv } from '../http-env.js';
import { errorResponses, json, SandboxIdParams } from '../schemas.js';
import type { Services } from '../services.js';

const tags = ['takeover'];
const RecordingParams = SandboxIdParams.extend({
  sessionId: z.string().openapi({ param: { name: 'sessionId', in: 'path' }, example: 'tko-0123456789abcdef' }),
});

const FrameParams = RecordingParams.extend({
  index: z.coerce
    .number()
    .int()
    .min(0)
    .max(999_999)
    .openapi({ param: { name: 'index', in: 'path' }, example: 0 }),
});

const routes = {
  takeover: createRoute({
    method: 'post',
    path: '/v1/sandboxes/{id}/takeover',
    tags,
    summary: "Take a sandbox over from its agent: a recorded terminal only you may type into (a person's token only)",
    description:
      'Starts a terminal process (a PTY; the login shell unless cmd says otherwise) and marks the sandbox human-controlled: its `control` ' +
      'shows who, to every reader, agents included. Attach to the terminal at /v1/sandboxes/{id}/processes/{pid}/attach; others may watch with ?mode=view. ' +
      "Input from anyone but the taker is refused. The session is recorded as asciicast v2. Someone else holding it: 409 already_taken_over; an agent's token: 403 takeover_refused.",
    request: {
      params: SandboxIdParams,
      body: { content: { 'application/json': { schema: TakeoverRequestSchema.meta({ id: 'TakeoverRequest' }) } }, required: false },
    },
    responses: { 201: json(TakeoverResponseSchema.meta({ id: 'Takeover' }), 'taken over'), ...errorResponses },
  }),
  handback: createRoute({
    method: 'post',
    path: '/v1/sandboxes/{id}/handback',
    tags,
    summary: 'Hand a taken-over sandbox back to its agent: the terminal is killed and its recording closed (the taker, or an admin)',
    request: { params: SandboxIdParams },
    responses: { 200: json(HandbackResponseSchema.meta({ id: 'Handback' }), 'handed back, with the recording'), ...errorResponses },
  }),
  recordings: createRoute({
    method: 'get',
    path: '/v1/sandboxes/{id}/recordings',
    tags,
    summary: "The sandbox's takeover recordings",
    request: { params: SandboxIdParams },
    responses: { 200: json(RecordingListSchema.meta({ id: 'RecordingList' }), 'recordings, oldest first'), ...errorResponses },
  }),
  recording: createRoute({
    method: 'get',
    path: '/v1/sandboxes/{id}/recordings/{sessionId}',
    tags,
    summary: 'One takeover recording: the asciicast v2 file',
    request: { params: RecordingParams },
    responses: {
      200: { description: 'the cast: a JSON header line, then [seconds, "o"|"i", text] lines', content: { 'application/x-asciicast': { schema: z.string() } } },
      ...errorResponses,
    },
  }),
  frames: createRoute({
    method: 'get',
    path: '/v1/sandboxes/{id}/recordings/{sessionId}/frames',
    tags,
    summary: "A desktop takeover's frames: the screen while the person held it, a frame kept whenever it changed",
    request: { params: RecordingParams },
    responses: { 200: json(RecordingFramesSchema.meta({ id: 'RecordingFrames' }), 'the frames, in order'), ...errorResponses },
  }),
  frame: createRoute({
    method: 'get',
    path: '/v1/sandboxes/{id}/recordings/{sessionId}/frames/{index}',
    tags,
    summary: 'One frame of a desktop takeover, as PNG',
    request: { params: FrameParams },
    responses: { 200: { description: 'PNG', content: { 'image/png': { schema: z.string().openapi({ format: 'binary' }) } } }, ...errorResponses },
  }),
};

export function registerTakeoverRoutes(app: OpenAPIHono<HttpEnv>, s: Services): void {
  app.openapi(routes.takeover, async (c) => {
    const { id } = c.req.valid('param');
    const body = TakeoverRequestSchema.parse(await c.req.json().catch(() => ({})));
    const principal = c.get('principal');
    const taken = await s.govern(
      c,
      {
        action: 'sandbox.takeover',
        resource: `sandbox:${id}`,
        context: { ...(body.cmd ? { cmd: body.cmd } : {}) },
        precheck: () => {
          s.sandboxes.requireRunning(principal.tenant, id);
          s.takeovers.check(principal, id);
        },
        detailsOf: (r) => ({ sessionId: (r as { control: { sessionId?: string } }).control.sessionId, pid: (r as { pid: number }).pid }),
      },
      async () => s.takeovers.take(principal, s.sandboxes.requireRunning(principal.tenant, id), body),
    );
    return c.json(taken, 201);
  });

  app.openapi(routes.handback, async (c) => {
    const { id } = c.req.valid('param');
    const principal = c.get('principal');
    const result = await s.govern(
      c,
      {
        action: 'sandbox.handback',
        resource: `sandbox:${id}`,
        precheck: () => s.sandboxes.get(principal.tenant, id),
        detailsOf: (r) => ({ ...(r as { recording: Record<string, unknown> }).recording }),
      },
      async () => s.takeovers.handBack(principal, id),
    );
    return c.json(result, 200);
  });

  app.openapi(routes.recordings, async (c) => {
    const { id } = c.req.valid('param');
    const owner = c.get('principal').tenant;
    const recordings = await s.govern(c, { action: 'sandbox.recording.read', resource: `sandbox:${id}`, precheck: () => s.sandboxes.get(owner, id) }, () =>
      s.takeovers.recordings(id),
    );
    return c.json({ recordings }, 200);
  });

  app.openapi(routes.recording, async (c) => {
    const { id, sessionId } = c.req.valid('param');
    const owner = c.get('principal').tenant;
    const cast = await s.govern(
      c,
      { action: 'sandbox.recording.read', resource: `sandbox:${id}`, context: { sessionId }, precheck: () => s.sandboxes.get(owner, id) },
      async () => {
        if (!s.takeovers.recording(id, sessionId))
          throw new NotFoundError(`no recording ${sessionId} of sandbox ${id}`, { id, sessionId }, 'recording_not_found');
        return readFile(s.takeovers.castPath(id, sessionId));
      },
    );
    return c.body(cast, 200, { 'content-type': 'application/x-asciicast' });
  });

  const recordingOf = (id: string, sessionId: string) => {
    if (!s.takeovers.recording(id, sessionId)) throw new NotFoundError(`no recording ${sessionId} of sandbox ${id}`, { id, sessionId }, 'recording_not_found');
    return s.takeovers.framesFolder(id, sessionId);
  };

  app.openapi(routes.frames, async (c) => {
    const { id, sessionId } = c.req.valid('param');
    const owner = c.get('principal').tenant;
    const frames = await s.govern(
      c,
      { action: 'sandbox.recording.read', resource: `sandbox:${id}`, context: { sessionId, op: 'frames' }, precheck: () => s.sandboxes.get(owner, id) },
      async () => listFrames(recordingOf(id, sessionId)),
    );
    return c.json({ sessionId, intervalMs: s.takeovers.frameIntervalMs, frames }, 200);
  });

  app.openapi(routes.frame, async (c) => {
    const { id, sessionId, index } = c.req.valid('param');
    const owner = c.get('principal').tenant;
    const png = await s.govern(
      c,
      { action: 'sandbox.recording.read', resource: `sandbox:${id}`, context: { sessionId, op: 'frame', index }, precheck: () => s.sandboxes.get(owner, id) },
      async () => {
        const path = await framePath(recordingOf(id, sessionId), index);
        if (!path) throw new NotFoundError(`recording ${sessionId} has no frame ${index}`, { id, sessionId, index }, 'recording_not_found');
        return readFile(path);
      },
    );
    return c.body(new Uint8Array(png), 200, { 'content-type': 'image/png', 'cache-control': 'private, max-age=86400' });
  });
}
