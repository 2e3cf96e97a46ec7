import { formatDuration } from '../limits/format-units.js';
import { type CodeOf, type ErrorClassName, errorCodes, type PaddockErrorCode, statusOfCode } from './error-codes.js';

/** Details carried by an error to the API body and back into the SDK. */
export type ErrorDetails = Record<string, unknown>;

/**
 * Every error Paddock reports has a stable `code` (what programs match on) and
 * an HTTP status, both from the table in error-codes.ts. The API returns
 * `{ error: { code, message, details } }` and the SDK turns that body back
 * into the same class.
 */
export class PaddockError extends Error {
  readonly code: PaddockErrorCode;
  readonly status: number;
  readonly details: ErrorDetails;

  constructor(code: PaddockErrorCode, status: number, message: string, details: ErrorDetails = {}) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.details = details;
  }

  toJSON(): { error: { code: PaddockErrorCode; message: string; details: ErrorDetails } } {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }
}

/** The status the table gives a code: a subclass never states its own. */
function statusOf(code: keyof typeof errorCodes): number {
  return errorCodes[code].status;
}

export class BadRequestError extends PaddockError {
  constructor(message: string, details: ErrorDetails = {}, code: CodeOf<'BadRequestError' | 'ValidationError' | 'HostCapacityError'> = 'bad_request') {
    super(code, statusOf(code), message, details);
  }
}

/** A request whose fields failed their schema; `details.fields` names each one. */
export class ValidationError extends BadRequestError {
  constructor(message: string, fields: Array<{ path: string; message: string }>) {
    super(message, { fields }, 'invalid_request');
  }
}

export class UnauthorizedError extends PaddockError {
  constructor(message = 'missing or invalid token', details: ErrorDetails = {}, code: CodeOf<'UnauthorizedError'> = 'unauthorized') {
    super(code, statusOf(code), message, details);
  }
}

/** A policy, or the token's own scope, refuses the action. */
export class PolicyDeniedError extends PaddockError {
  constructor(message: string, details: ErrorDetails = {}, code: CodeOf<'PolicyDeniedError'> = 'policy_denied') {
    super(code, statusOf(code), message, details);
  }
}

export class ForbiddenOriginError extends PaddockError {
  constructor(origin: string) {
    super('forbidden_origin', statusOf('forbidden_origin'), `requests from origin ${origin} are not allowed`, { origin });
  }
}

/** A request naming a host the daemon does not serve: a DNS-rebinding page, say. */
export class ForbiddenHostError extends PaddockError {
  constructor(host: string) {
    super('forbidden_host', statusOf('forbidden_host'), `requests for host ${host} are not served here`, { host });
  }
}

export class ApprovalRequiredError extends PaddockError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('approval_required', statusOf('approval_required'), message, details);
  }
}

/** A human looked at the request and said no (or nobody answered in time). */
export class ApprovalDeniedError extends PaddockError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('approval_denied', statusOf('approval_denied'), message, details);
  }
}

export class NotFoundError extends PaddockError {
  constructor(
    message: string,
    details: ErrorDetails = {},
    code: CodeOf<'NotFoundError' | 'SandboxNotFoundError' | 'TemplateNotFoundError' | 'ProcessNotFoundError'> = 'not_found',
  ) {
    super(code, statusOf(code), message, details);
  }
}

export class SandboxNotFoundError extends NotFoundError {
  constructor(id: string, reason?: string) {
    super(reason ? `sandbox ${id} ${reason}` : `sandbox ${id} not found`, { id }, 'sandbox_not_found');
  }
}

export class TemplateNotFoundError extends NotFoundError {
  constructor(name: string) {
    super(`template ${name} not found`, { template: name }, 'template_not_found');
  }
}

export class ProcessNotFoundError extends NotFoundError {
  constructor(sandboxId: string, pid: number) {
    super(`process ${pid} not found in sandbox ${sandboxId}`, { id: sandboxId, pid }, 'process_not_found');
  }
}

/**
 * A file operation failed, and no class of its status fits (a refused
 * permission, a full disk, an unsafe archive); `details.errno` is the POSIX
 * name when the sandbox refused it. A missing file is a NotFoundError.
 */
export class FileError extends PaddockError {
  constructor(code: CodeOf<'FileError'>, message: string, details: ErrorDetails = {}) {
    super(code, statusOf(code), message, details);
  }
}

export class ConflictError extends PaddockError {
  constructor(message: string, details: ErrorDetails = {}, code: CodeOf<'ConflictError'> = 'conflict') {
    super(code, statusOf(code), message, details);
  }
}

export class SandboxExitedError extends PaddockError {
  constructor(id: string, message = `sandbox ${id} exited`) {
    super('sandbox_exited', statusOf('sandbox_exited'), message, { id });
  }
}

export class PayloadTooLargeError extends PaddockError {
  constructor(limitBytes: number) {
    super('payload_too_large', statusOf('payload_too_large'), `request body exceeds the limit of ${limitBytes} bytes`, { limitBytes });
  }
}

export class TimeoutError extends PaddockError {
  constructor(message: string, details: ErrorDetails = {}, code: CodeOf<'TimeoutError' | 'CommandTimeoutError'> = 'timeout') {
    super(code, statusOf(code), message, details);
  }
}

/** What a finished command hands back; its errors keep it all, in details too so it crosses the API. */
interface CommandOutcome {
  exitCode: number;
  stdout: string;
  stderr: string;
  signal?: string | null;
}

/**
 * A command killed at its own timeout (the daemon's `timedOut`), with what it
 * wrote until then; apart from CommandExitError so a caller can tell a slow
 * command from a failing one.
 */
export class CommandTimeoutError extends TimeoutError {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;

  constructor(result: CommandOutcome, timeoutMs?: number) {
    super(
      timeoutMs ? `command timed out after ${formatDuration(timeoutMs)} and was killed` : 'command timed out and was killed',
      {
        exitCode: result.exitCode,
        signal: result.signal ?? null,
        ...(timeoutMs ? { timeoutMs } : {}),
        stdout: result.stdout,
        stderr: result.stderr,
      },
      'command_timeout',
    );
    this.exitCode = result.exitCode;
    this.stdout = result.stdout;
    this.stderr = result.stderr;
  }
}

export class CommandExitError extends PaddockError {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;

  constructor(result: CommandOutcome) {
    super('command_exit', statusOf('command_exit'), `command exited with code ${result.exitCode}`, {
      exitCode: result.exitCode,
      signal: result.signal ?? null,
      stdout: result.stdout,
      stderr: result.stderr,
    });
    this.exitCode = result.exitCode;
    this.stdout = result.stdout;
    this.stderr = result.stderr;
  }
}

export class RuntimeError extends PaddockError {
  constructor(message: string, details: ErrorDetails = {}, code: CodeOf<'RuntimeError'> = 'runtime_error') {
    super(code, statusOf(code), message, details);
  }
}

export class UnavailableError extends PaddockError {
  constructor(message: string, details: ErrorDetails = {}, code: CodeOf<'UnavailableError'> = 'unavailable') {
    super(code, statusOf(code), message, details);
  }
}

/**
 * The connection to the daemon broke while a call was under way (the daemon
 * restarted, say). Commands keep running in their sandboxes: `retryable` says
 * the same call, or a wait or follow by `pid` when the details name one, can
 * be made again once the daemon is back. The client makes this error; the API
 * never sends it.
 */
export class ConnectionLostError extends PaddockError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('connection_lost', statusOf('connection_lost'), message, { ...details, retryable: true });
  }
}

/** A sandbox's limits ask for more memory, CPUs or disk than the host has (times the operator's overcommit ratio). */
export class HostCapacityError extends BadRequestError {
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details, 'exceeds_host_capacity');
  }
}

/** A tenant's quota would be exceeded; details name the quota, its limit and what is in use. */
export class QuotaExceededError extends PaddockError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('quota_exceeded', statusOf('quota_exceeded'), message, details);
  }
}

/** The class of each name in the table; `satisfies` makes a class the table names but this map lacks a compile error. */
const errorClasses = {
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

type ErrorClass = abstract new (...args: never[]) => PaddockError;

/** A code this version does not know (a newer daemon's) is rebuilt by its status, as near as it gets. */
const classByStatus: Record<number, ErrorClass> = {
  400: BadRequestError,
  401: UnauthorizedError,
  404: NotFoundError,
  408: TimeoutError,
  409: ConflictError,
  413: PayloadTooLargeError,
  504: TimeoutError,
};

/** An API error body, as parsed; every part may be missing or of the wrong type. */
export type ErrorBody = { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined;

/**
 * Rebuilds the class the table names for the body's code, with the same code,
 * status, message and details, so SDK users can `instanceof` the classes the
 * daemon throws and read the fields they carry (a command's exit code and
 * output). Constructors are not run: the body already holds what they made.
 */
export function errorFromBody(status: number, body: ErrorBody): PaddockError {
  const sent = body?.error;
  // A code this version does not know passes through as sent (a newer daemon's); the type names only the known.
  const code = (typeof sent?.code === 'string' && sent.code ? sent.code : `http_${status}`) as PaddockErrorCode;
  const message = typeof sent?.message === 'string' ? sent.message : `request failed with HTTP ${status}`;
  const details = isRecord(sent?.details) ? sent.details : {};
  const known = Object.hasOwn(errorCodes, code) ? errorCodes[code as keyof typeof errorCodes].error : undefined;
  const cls: ErrorClass = known ? errorClasses[known] : (classByStatus[status] ?? PaddockError);
  const err = new PaddockError(code, status, message, details);
  Object.setPrototypeOf(err, cls.prototype);
  (err as { name: string }).name = known ?? cls.name;
  if (err instanceof CommandExitError || err instanceof CommandTimeoutError) Object.assign(err, outcomeOf(details));
  return err;
}

/**
 * An error sent mid-stream (an NDJSON `error` event), after the response's
 * status was already sent: rebuilt with the table's status for its code, or
 * `unknownStatus` for a code this version does not know.
 */
export function errorFromEvent(error: { code: string; message: string; details?: ErrorDetails }, unknownStatus: number): PaddockError {
  return errorFromBody(statusOfCode(error.code) ?? unknownStatus, { error });
}

function outcomeOf(details: ErrorDetails): Omit<CommandOutcome, 'signal'> {
  return {
    exitCode: typeof details.exitCode === 'number' ? details.exitCode : -1,
    stdout: typeof details.stdout === 'string' ? details.stdout : '',
    stderr: typeof details.stderr === 'string' ? details.stderr : '',
  };
}

function isRecord(value: unknown): value is ErrorDetails {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
