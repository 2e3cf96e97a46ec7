import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { ApprovalApproveSchema, ApprovalCancelSchema, ApprovalDecisionSchema, type ApprovalInfo, ApprovalListQuerySchema, ApprovalSchema } from '@paddock/core';
import type { HttpEnv } from '../http-env.js';
import { ndjsonHeaders, ndjsonStream } from '../ndjson.js';
import { errorResponses, json } from '../schemas.js';
import type { Services } from '../services.js';

const tags = ['approvals'];
const ApprovalResponse = ApprovalSchema.meta({ id: 'Approval' });
const IdParams = z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' }, example: 'ap_4f1c2a9b0d3e' }) });

const listApprovals = createRoute({
  method: 'get',
  path: '/v1/approvals',
  tags,
  summary: 'Requests policies asked a human about (newest first); follow=true streams new and changed ones as NDJSON',
  request: { query: ApprovalListQuerySchema },
  responses: {
    200: {
      content: { 'application/json': { schema: z.object({ approvals: z.array(ApprovalResponse) }) }, 'application/x-ndjson': { schema: ApprovalResponse } },
      description: 'approvals',
    },
    ...errorResponses,
  },
});

const getApproval = createRoute({
  method: 'get',
  path: '/v1/approvals/{id}',
  tags,
  summary: 'One approval; with wait=N (seconds) the answer comes once it is decided, or after N seconds',
  request: { params: IdParams, query: z.object({ wait: z.coerce.number().min(0).max(600).optional() }) },
  responses: { 200: json(ApprovalResponse, 'the approval'), ...errorResponses },
});

const approve = createRoute({
  method: 'post',
  path: '/v1/approvals/{id}/approve',
  tags,
  summary: 'Approve the request, once; by someone other than whom it was asked for, or by that person with self: true where the daemon allows self-approval',
  request: { params: IdParams, body: { content: { 'application/json': { schema: ApprovalApproveSchema } }, required: true } },
  responses: { 200: json(ApprovalResponse, 'the decided approval'), ...errorResponses },
});

const deny = createRoute({
  method: 'post',
  path: '/v1/approvals/{id}/deny',
  tags,
  summary: 'Deny the request',
  request: { params: IdParams, body: { content: { 'application/json': { schema: ApprovalDecisionSchema } }, required: true } },
  responses: { 200: json(ApprovalResponse, 'the decided approval'), ...errorResponses },
});

const cancel = createRoute({
  method: 'post',
  path: '/v1/approvals/{id}/cancel',
  tags,
  summary: 'Withdraw a pending request (the token that asked); a request waiting on it ends with approval_denied',
  request: { params: IdParams, body: { content: { 'application/json': { schema: ApprovalCancelSchema } }, required: false } },
  responses: { 200: json(ApprovalResponse, 'the cancelled approval'), ...errorResponses },
});

export function registerApprovalRoutes(app: OpenAPIHono<HttpEnv>, s: Services): void {
  app.openapi(listApprovals, async (c) => {
    const { state, follow } = c.req.valid('query');
    const principal = c.get('principal');
    const approvals = await s.govern(c, { action: 'approval.list', resource: 'approval:*', context: { state } }, async () =>
      s.approvals.list(principal, state ?? 'pending'),
    );
    if (follow !== 'true') return c.json({ approvals }, 200);
    let unsubscribe = () => {};
    const visible = (a: ApprovalInfo) => (principal.role === 'admin' || a.tenant === principal.tenant) && (!state || state === 'all' || a.state === state);
    const body = ndjsonStream(
      (sink) => {
        // Oldest first, as the audit log's follow: what happened, then what happens.
        for (const a of [...approvals].reverse()) sink.send(a);
        unsubscribe = s.approvals.subscribe((a) => visible(a) && sink.send(a));
      },
      { onCancel: () => unsubscribe() },
    );
    c.get('signal').addEventListener('abort', () => unsubscribe());
    return new Response(body, { status: 200, headers: ndjsonHeaders() }) as never;
  });

  app.openapi(getApproval, async (c) => {
    const { id } = c.req.valid('param');
    const { wait } = c.req.valid('query');
    const approval = await s.govern(c, { action: 'approval.get', resource: `approval:${id}` }, async () => {
      const found = s.approvals.get(c.get('principal'), id);
      return wait ? s.approvals.waitForDecision(found.id, wait * 1000, c.get('signal')) : found;
    });
    return c.json(approval, 200);
  });

  app.openapi(approve, async (c) => {
    const { id } = c.req.valid('param');
    const { reason, self } = c.req.valid('json');
    // Approving one's own request is an action of its own: policies can forbid it, and the audit log names it.
    const action = self ? 'approval.self_approve' : 'approval.approve';
    const decided = await s.govern(c, { action, resource: `approval:${id}`, context: { reason } }, async () =>
      s.approvals.decide(c.get('principal'), id, 'approved', reason, self === true),
    );
    return c.json(decided, 200);
  });

  app.openapi(deny, async (c) => {
    const { id } = c.req.valid('param');
    const { reason } = c.req.valid('json');
    const decided = await s.govern(c, { action: 'approval.deny', resource: `approval:${id}`, context: { reason } }, async () =>
      s.approvals.decide(c.get('principal'), id, 'denied', reason),
    );
    return c.json(decided, 200);
  });

  app.openapi(cancel, async (c) => {
    const { id } = c.req.valid('param');
    const reason = (c.req.valid('json') as { reason?: string } | undefined)?.reason;
    const cancelled = await s.govern(c, { action: 'approval.cancel', resource: `approval:${id}`, context: reason ? { reason } : {} }, async () =>
      s.approvals.cancel(c.get('principal'), id, reason),
    );
    return c.json(cancelled, 200);
  });
}
