import type { Context, Next } from 'hono';
import { apiError } from '../../http/api-error.js';
import type { HttpEnv } from '../../http/http-env.js';

/** E2B's error body: the HTTP status again as `code`, and a message the SDKs show as it is. */
export interface E2bErrorBody {
  code: number;
  message: string;
  /** Paddock's stable error code, for a caller that wants more than the status. */
  error_code: string;
  /** Set when a person must approve the request first: retry it with this id in X-Paddock-Approval. */
  approvalId?: string;
}

export function e2bErrorBody(err: unknown, requestId: string | undefined): { status: number; body: E2bErrorBody } {
  const answer = apiError(err, requestId);
  const approvalId = typeof answer.details.approvalId === 'string' ? { approvalId: answer.details.approvalId } : {};
  return { status: answer.status, body: { code: answer.status, message: answer.message, error_code: answer.code, ...approvalId } };
}

/**
 * Under /e2b every error answers in E2B's shape, whichever part of the app
 * raised it (authentication, validation, a governed call, an unknown route):
 * the app's error handler has made Paddock's answer by the time this sees it,
 * and this puts E2B's in its place.
 */
export async function e2bErrorShape(c: Context<HttpEnv>, next: Next): Promise<void> {
  await next();
  if (c.error) {
    const { status, body } = e2bErrorBody(c.error, c.get('requestId'));
    c.res = new Response(JSON.stringify(body), { status, headers: withJson(c.res.headers) });
    return;
  }
  // A 404 nothing threw: no route matched.
  if (c.res.status === 404) {
    const body: E2bErrorBody = { code: 404, message: `no route for ${c.req.method} ${c.req.path}`, error_code: 'route_not_found' };
    c.res = new Response(JSON.stringify(body), { status: 404, headers: withJson(c.res.headers) });
  }
}

function withJson(headers: Headers): Headers {
  const copy = new Headers(headers);
  copy.set('content-type', 'application/json');
  copy.delete('content-length');
  return copy;
}
