import { z } from '@hono/zod-openapi';
import { BadRequestError, PaddockError, PayloadTooLargeError, ValidationError } from '@paddock/core';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { HttpEnv } from './http-env.js';

/** Failed schema checks as the API reports them: each field's path and what is wrong with it. */
export function validationError(issues: readonly z.core.$ZodIssue[]): ValidationError {
  const fields = issues.map((i) => ({ path: i.path.join('.') || '(body)', message: i.message }));
  return new ValidationError(`invalid request: ${fields.map((f) => `${f.path}: ${f.message}`).join('; ')}`, fields);
}

/**
 * The error the API answers with for whatever a handler or middleware threw;
 * its `toJSON()` is the body and `status` the HTTP status. A schema checked
 * inside a handler fails like the request's own validation (400 with the
 * fields), Hono's own HTTP errors keep their status, and anything else is a
 * 500 naming the request, whose details only the daemon log holds.
 */
export function apiError(err: unknown, requestId: string | undefined): PaddockError {
  if (err instanceof PaddockError) return err;
  if (err instanceof z.ZodError) return validationError(err.issues);
  if (err instanceof HTTPException) {
    if (/malformed json/i.test(err.message)) return new BadRequestError('request body is not valid JSON', {}, 'invalid_json');
    return new PaddockError(`http_${err.status}`, err.status, err.message);
  }
  return internalError(requestId);
}

/** A bug's answer: what went wrong stays in the daemon log, under the request id. */
export function internalError(requestId: string | undefined): PaddockError {
  const request = requestId ? ` (request ${requestId})` : '';
  return new PaddockError('internal_error', 500, `internal error${request}; the daemon log has details`);
}

/** The app's error handler: `{ error: { code, message, details } }` with the error's status. */
export async function answerError(err: Error, c: Context<HttpEnv>): Promise<Response> {
  if ((err instanceof PayloadTooLargeError || isUpload(c.req.raw)) && !(await discardBody(c.req.raw))) c.header('connection', 'close');
  const answer = apiError(err, c.get('requestId'));
  if (answer.code === 'internal_error') c.get('logger')?.error({ err }, 'unhandled error');
  return c.json(answer.toJSON(), answer.status as 400);
}

// Reading the rest of a refused upload lets the client see the 413 or 507 (instead of
// a broken pipe) and keeps the connection usable; past this much we hang up.
const maxDiscardBytes = 64 * 1024 * 1024;

/** A streamed upload, which a failure (a full disk, say) can leave half read. */
function isUpload(req: Request): boolean {
  return /^application\/(octet-stream|x-tar)\b/.test(req.headers.get('content-type') ?? '');
}

async function discardBody(req: Request): Promise<boolean> {
  const body = req.body;
  if (!body || body.locked) return body === null;
  if (Number(req.headers.get('content-length') ?? '0') > maxDiscardBytes) return false;
  let seen = 0;
  for await (const chunk of body.values({ preventCancel: true }) as AsyncIterable<Uint8Array>) {
    seen += chunk.length;
    if (seen > maxDiscardBytes) return false;
  }
  return true;
}
