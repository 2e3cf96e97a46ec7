import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { EventsQuerySchema, type EventTopic, eventTopics, PaddockError, PolicyDeniedError, parseTopics } from '@paddock/core';
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { Principal } from '../../auth/token-auth.js';
import type { HttpEnv } from '../http-env.js';
import { errorResponses } from '../schemas.js';
import type { Services } from '../services.js';

const tags = ['events'];

const events = createRoute({
  method: 'get',
  path: '/v1/events',
  tags,
  summary: 'Live events as server-sent events: sandbox, metrics, approval, audit and stats, each as the API would show it to the caller',
  description:
    'The first event, `ready`, names the topics granted (and those refused: audit needs audit.read). A `: ping` comment comes every 15 s. ' +
    'A client that reads slower than events come is dropped (the stream ends); it may connect again.',
  request: { query: EventsQuerySchema },
  responses: {
    200: { content: { 'text/event-stream': { schema: z.string() } }, description: 'the event stream' },
    ...errorResponses,
  },
});

/**
 * The action each topic is governed as: the sandbox stream is the sandbox
 * list, live; approvals and the audit log as their own reads.
 */
const topicActions: Record<EventTopic, { action: string; resource: string }> = {
  sandbox: { action: 'sandbox.list', resource: 'sandbox:*' },
  metrics: { action: 'sandbox.list', resource: 'sandbox:*' },
  stats: { action: 'sandbox.list', resource: 'sandbox:*' },
  approval: { action: 'approval.list', resource: 'approval:*' },
  audit: { action: 'audit.read', resource: 'audit:*' },
};

export function registerEventRoutes(app: OpenAPIHono<HttpEnv>, s: Services): void {
  app.openapi(events, async (c) => {
    const asked = parseTopics(c.req.valid('query').topics);
    const { granted, refused, firstError } = await grantTopics(c, s, asked ?? [...eventTopics]);
    if (granted.length === 0) throw firstError ?? new PolicyDeniedError('no topic of the events stream is allowed to this token');
    const principal = c.get('principal');
    const viewer = { principal, topics: new Set(granted), scopes: s.scopes, stillSignedIn: c.get('session')?.stillLive };
    const ready = { event: 'ready', data: JSON.stringify({ topics: granted, refused }) };
    // The Node response under the stream: a dropped client's socket is cut, not left to drain.
    const outgoing = (c.env as { outgoing?: { destroy(): void } } | undefined)?.outgoing;
    return streamSSE(c, async (stream) => {
      const gone = new AbortController();
      stream.onAbort(() => gone.abort());
      c.get('signal').addEventListener('abort', () => gone.abort(), { once: true });
      const sink = {
        writeSSE: (m: { event: string; data: string }) => stream.writeSSE(m),
        write: (text: string) => stream.write(text),
        abort: () => {
          stream.abort();
          outgoing?.destroy();
        },
      };
      await s.events.serve(viewer, sink, ready, gone.signal);
    }) as never;
  });
}

/**
 * Each topic's action goes through the scope, the policy and the audit log
 * once (sandbox, metrics and stats are one read). Refused topics are left out
 * (the ready event names them); the request fails only when none is left.
 */
async function grantTopics(
  c: Context<HttpEnv>,
  s: Services,
  topics: EventTopic[],
): Promise<{ granted: EventTopic[]; refused: EventTopic[]; firstError: PaddockError | undefined }> {
  const principal = c.get('principal');
  const decided = new Map<string, PaddockError | null>();
  const granted: EventTopic[] = [];
  const refused: EventTopic[] = [];
  let firstError: PaddockError | undefined;
  for (const topic of topics) {
    const { action, resource } = topicActions[topic];
    if (!decided.has(action)) {
      try {
        await s.govern(c, { action, resource, context: { stream: 'events', topics } }, async () => undefined);
        decided.set(action, null);
      } catch (err) {
        if (!(err instanceof PaddockError)) throw err;
        decided.set(action, err);
      }
    }
    const error = decided.get(action) ?? (topic === 'stats' ? statsRefusal(principal) : null);
    if (error) {
      refused.push(topic);
      firstError ??= error;
    } else granted.push(topic);
  }
  return { granted, refused, firstError };
}

/** Statistics count the whole tenant: a token that reaches only some of its sandboxes does not get them. */
export function statsRefusal(principal: Principal): PaddockError | null {
  const scope = principal.grant?.scope;
  if (!scope?.sandboxes && !scope?.labels) return null;
  return new PolicyDeniedError(
    "the daemon's statistics count the whole tenant; this token reaches only some of its sandboxes",
    { field: 'sandboxes' },
    'scope_denied',
  );
}
