import { OpenAPIHono, z } from '@hono/zod-openapi';
import {
  ApprovalDeniedError,
  ApprovalRequiredError,
  BadRequestError,
  type CodeOf,
  CommandExitError,
  CommandTimeoutError,
  ConflictError,
  ConnectionLostError,
  type ErrorClassName,
  errorCodes,
  errorFromBody,
  FileError,
  ForbiddenHostError,
  ForbiddenOriginError,
  HostCapacityError,
  NotFoundError,
  PaddockError,
  PayloadTooLargeError,
  PolicyDeniedError,
  ProcessNotFoundError,
  QuotaExceededError,
  RuntimeError,
  SandboxExitedError,
  SandboxNotFoundError,
  TemplateNotFoundError,
  TimeoutError,
  UnauthorizedError,
  UnavailableError,
  ValidationError,
} from '@paddock/core';
import { ApiClient, apiCall } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFastDaemon, type TestDaemon } from '../testing/fast-daemon.js';
import { answerError, apiError } from './api-error.js';
import type { HttpEnv } from './http-env.js';
import { inProcessTransport } from './in-process-transport.js';

type Code = keyof typeof errorCodes;
type ErrorClass = abstract new (...args: never[]) => PaddockError;

// One error of each class, as the daemon (or, for the client's own codes, the SDK) makes it, with details worth carrying.
const samples = {
  PaddockError: (code) => new PaddockError(code, errorCodes[code].status, `it failed (${code})`, { request: 'req-1' }),
  BadRequestError: (code) => new BadRequestError('Paddockfile line 3: unknown instruction', { line: 3 }, code as CodeOf<'BadRequestError'>),
  ValidationError: () => new ValidationError('invalid request: limits.memoryMiB: too big', [{ path: 'limits.memoryMiB', message: 'too big' }]),
  HostCapacityError: () => new HostCapacityError('memory 1 TiB exceeds the host', { limit: 'memoryMiB', asked: 1048576, host: 2048 }),
  UnauthorizedError: (code) => new UnauthorizedError('missing or invalid token', {}, code as CodeOf<'UnauthorizedError'>),
  PolicyDeniedError: (code) =>
    new PolicyDeniedError('policy forbids sandbox.exec', { action: 'sandbox.exec', policies: ['forbid-0'] }, code as CodeOf<'PolicyDeniedError'>),
  ForbiddenOriginError: () => new ForbiddenOriginError('https://evil.example'),
  ForbiddenHostError: () => new ForbiddenHostError('rebound.example:7423'),
  ApprovalRequiredError: () => new ApprovalRequiredError('a person approves this first', { approvalId: 'ap-1', expiresAt: '2026-01-01T00:00:00Z' }),
  ApprovalDeniedError: () => new ApprovalDeniedError('approval ap-1 is denied', { approvalId: 'ap-1', state: 'denied' }),
  NotFoundError: (code) => new NotFoundError('it is not there', { id: 'x-1' }, code as CodeOf<'NotFoundError'>),
  SandboxNotFoundError: () => new SandboxNotFoundError('sb-1', 'was killed and no longer exists'),
  TemplateNotFoundError: () => new TemplateNotFoundError('python'),
  ProcessNotFoundError: () => new ProcessNotFoundError('sb-1', 42),
  FileError: (code) => new FileError(code as CodeOf<'FileError'>, '/work/x: it failed', { errno: 'EACCES' }),
  ConflictError: (code) => new ConflictError('sandbox sb-1 is paused', { id: 'sb-1' }, code as CodeOf<'ConflictError'>),
  SandboxExitedError: () => new SandboxExitedError('sb-1'),
  PayloadTooLargeError: () => new PayloadTooLargeError(1024),
  CommandExitError: () => new CommandExitError({ exitCode: 3, stdout: 'out\n', stderr: 'err\n', signal: null }),
  QuotaExceededError: () => new QuotaExceededError('tenant ci runs 10 sandboxes, its most', { quota: 'sandboxes', limit: 10, used: 10 }),
  RuntimeError: (code) => new RuntimeError('runc failed', { errno: 'EIO' }, code as CodeOf<'RuntimeError'>),
  UnavailableError: (code) => new UnavailableError('gateway server fs is stopped', { state: 'stopped' }, code as CodeOf<'UnavailableError'>),
  ConnectionLostError: () => new ConnectionLostError('the connection to Paddock was lost', { sandboxId: 'sb-1', pid: 7 }),
  TimeoutError: (code) => new TimeoutError('process 7 is still running after 1s', { id: 'sb-1', pid: 7, waitedMs: 1000 }, code as CodeOf<'TimeoutError'>),
  CommandTimeoutError: () => new CommandTimeoutError({ exitCode: 137, stdout: 'started\n', stderr: 'warming\n', signal: 'SIGKILL' }, 500),
} satisfies Record<ErrorClassName, (code: Code) => PaddockError>;

const classes = {
  PaddockError,
  BadRequestError,
  ValidationError,
  HostCapacityError,
  UnauthorizedError,
  PolicyDeniedError,
  ForbiddenOriginError,
  ForbiddenHostError,
  ApprovalRequiredError,
  ApprovalDeniedError,
  NotFoundError,
  SandboxNotFoundError,
  TemplateNotFoundError,
  ProcessNotFoundError,
  FileError,
  ConflictError,
  SandboxExitedError,
  PayloadTooLargeError,
  CommandExitError,
  QuotaExceededError,
  RuntimeError,
  UnavailableError,
  ConnectionLostError,
  TimeoutError,
  CommandTimeoutError,
} satisfies Record<ErrorClassName, ErrorClass>;

const codes = Object.keys(errorCodes) as Code[];

function sampleOf(code: Code): PaddockError {
  return samples[errorCodes[code].error](code);
}

/** The same class (not a parent or a subclass), code, status, message, details and fields of its own (a command's output). */
function expectSameError(rebuilt: unknown, sent: PaddockError): void {
  expect(rebuilt).toBeInstanceOf(PaddockError);
  expect(Object.getPrototypeOf(rebuilt)).toBe(Object.getPrototypeOf(sent));
  expect(rebuilt).toMatchObject({ name: sent.name, code: sent.code, status: sent.status, message: sent.message });
  expect({ ...(rebuilt as PaddockError) }).toEqual({ ...sent });
}

// A bare app with the daemon's own error handler: what a handler throws is answered as the daemon answers it.
function appThrowing(): OpenAPIHono<HttpEnv> {
  const app = new OpenAPIHono<HttpEnv>();
  app.get('/v1/errors/:code', (c) => {
    throw sampleOf(c.req.param('code') as Code);
  });
  app.post('/v1/parses', async (c) => {
    z.object({ name: z.string().max(8), timeoutMs: z.number().int().min(1000) }).parse(await c.req.json());
    return c.json({}, 200);
  });
  app.onError(answerError);
  return app;
}

describe('error codes from daemon to SDK', () => {
  it('each code of the table is made by the class and with the status the table names', () => {
    for (const code of codes) {
      const err = sampleOf(code);
      expect(err, code).toBeInstanceOf(classes[errorCodes[code].error]);
      expect(err.constructor.name, code).toBe(errorCodes[code].error);
      expect({ code: err.code, status: err.status }).toEqual({ code, status: errorCodes[code].status });
    }
  });

  it("every error class survives the daemon's body and the SDK's rebuilding: same class, code, status, message and details", () => {
    for (const code of codes) {
      const sent = sampleOf(code);
      const answer = apiError(sent, 'req-1');
      const rebuilt = errorFromBody(answer.status, JSON.parse(JSON.stringify(answer.toJSON())));
      expectSameError(rebuilt, sent);
    }
  });

  it('and through an HTTP response of the daemon’s error handler, read by the SDK’s client', async () => {
    const api = new ApiClient({ url: 'http://localhost', token: 't', transport: inProcessTransport(appThrowing().fetch) });
    for (const code of codes) {
      const rebuilt = await api.json({ method: 'GET', path: `/v1/errors/${code}` }).catch((e: unknown) => e);
      expectSameError(rebuilt, sampleOf(code));
    }
  });

  it('a failed command keeps its exit code and output, a timed-out one too, a lost connection its pid', () => {
    const exit = errorFromBody(422, JSON.parse(JSON.stringify(new CommandExitError({ exitCode: 3, stdout: 'out\n', stderr: 'err\n' }))));
    expect(exit).toBeInstanceOf(CommandExitError);
    expect(exit).toMatchObject({ exitCode: 3, stdout: 'out\n', stderr: 'err\n' });
    const timedOut = errorFromBody(504, JSON.parse(JSON.stringify(new CommandTimeoutError({ exitCode: 137, stdout: 'a', stderr: 'b' }, 500))));
    expect(timedOut).toBeInstanceOf(CommandTimeoutError);
    expect(timedOut).toMatchObject({ exitCode: 137, stdout: 'a', stderr: 'b', message: 'command timed out after 500ms and was killed' });
    const lost = errorFromBody(503, JSON.parse(JSON.stringify(new ConnectionLostError('lost', { pid: 7 }))));
    expect(lost).toBeInstanceOf(ConnectionLostError);
    expect(lost.details).toEqual({ pid: 7, retryable: true });
  });

  it('a ZodError thrown by a handler is a 400 naming the failing fields, like request validation, not a 500', async () => {
    const api = new ApiClient({ url: 'http://localhost', token: 't', transport: inProcessTransport(appThrowing().fetch) });
    const err = await api.json({ method: 'POST', path: '/v1/parses' }, { json: { name: 'far too long a name', timeoutMs: 5 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect(err).toMatchObject({ code: 'invalid_request', status: 400 });
    expect((err as ValidationError).details.fields).toEqual([
      { path: 'name', message: expect.any(String) },
      { path: 'timeoutMs', message: expect.any(String) },
    ]);
    expect((err as Error).message).toMatch(/^invalid request: name: .+; timeoutMs: /);
  });

  it('a code this SDK does not know keeps its code and is rebuilt by its status; a hostile body is no prototype', () => {
    const newer = errorFromBody(409, { error: { code: 'some_newer_code', message: 'newer', details: { a: 1 } } });
    expect(newer).toBeInstanceOf(ConflictError);
    expect(newer).toMatchObject({ code: 'some_newer_code', status: 409, message: 'newer', details: { a: 1 } });
    for (const code of ['__proto__', 'constructor', 'toString']) {
      const odd = errorFromBody(418, { error: { code, message: 'odd', details: 'not an object' } });
      expect(Object.getPrototypeOf(odd)).toBe(PaddockError.prototype);
      expect(odd).toMatchObject({ code, status: 418, details: {} });
    }
    expect(errorFromBody(502, undefined)).toMatchObject({ code: 'http_502', status: 502, message: 'request failed with HTTP 502' });
  });
});

describe('error codes from a running daemon', () => {
  let daemon: TestDaemon;
  beforeAll(async () => {
    daemon = await startFastDaemon();
  });
  afterAll(async () => {
    await daemon?.stop();
  });

  it('a request for another host comes back to the SDK as ForbiddenHostError (it had no class to rebuild)', async () => {
    const api = new ApiClient(daemon.conn);
    const err = await api.json(apiCall('GET /v1/sandboxes'), { headers: { host: 'rebound.example' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ForbiddenHostError);
    expect(err).toMatchObject({ code: 'forbidden_host', status: 403, details: { host: 'rebound.example' } });
  });

  it('an unknown route and a missing token come back as their classes', async () => {
    const route = await new ApiClient(daemon.conn).json({ method: 'GET', path: '/v1/nothing-here' }).catch((e: unknown) => e);
    expect(route).toBeInstanceOf(NotFoundError);
    expect(route).toMatchObject({ code: 'route_not_found', status: 404, message: 'no route for GET /v1/nothing-here' });
    const token = await new ApiClient({ url: daemon.url, token: 'not-a-token' }).json(apiCall('GET /v1/sandboxes')).catch((e: unknown) => e);
    expect(token).toBeInstanceOf(UnauthorizedError);
    expect(token).toMatchObject({ code: 'unauthorized', status: 401 });
  });
});
