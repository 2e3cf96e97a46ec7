import { formatDuration } from '../limits/format-units.js';

/** Details carried by an error to the API body and back into the SDK. */
export type ErrorDetails = Record<string, unknown>;

/**
 * Every error Paddock reports has a stable `code` (what programs match on) and
 * an HTTP status. The API returns `{ error: { code, message, details } }` and the
 * SDK turns that body back into the same class.
 */
export class PaddockError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details: ErrorDetails;

  constructor(code: string, status: number, message: string, details: ErrorDetails = {}) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.details = details;
  }

  toJSON(): { error: { code: string; message: string; details: ErrorDetails } } {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }
}

export class BadRequestError extends PaddockError {
  constructor(message: string, details: ErrorDetails = {}, code = 'bad_request') {
    super(code, 400, message, details);
  }
}

/** A request whose fields failed their schema; `details.fields` names each one. */
export class ValidationError extends BadRequestError {
  constructor(message: string, fields: Array<{ path: string; message: string }>) {
    super(message, { fields }, 'invalid_request');
  }
}

export class UnauthorizedError extends PaddockError {
  constructor(message = 'missing or invalid token') {
    super('unauthorized', 401, message);
  }
}

export class PolicyDeniedError extends PaddockError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('policy_denied', 403, message, details);
  }
}

export class ForbiddenOriginError extends PaddockError {
  constructor(origin: string) {
    super('forbidden_origin', 403, `requests from origin ${origin} are not allowed`, { origin });
  }
}

/** A request naming a host the daemon does not serve: a DNS-rebinding page, say. */
export class ForbiddenHostError extends PaddockError {
  constructor(host: string) {
    super('forbidden_host', 403, `requests for host ${host} are not served here`, { host });
  }
}

export class ApprovalRequiredError extends PaddockError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('approval_required', 403, message, details);
  }
}

/** A human looked at the request and said no (or nobody answered in time). */
export class ApprovalDeniedError extends PaddockError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('approval_denied', 403, message, details);
  }
}

export class NotFoundError extends PaddockError {
  constructor(message: string, details: ErrorDetails = {}, code = 'not_found') {
    super(code, 404, message, details);
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

/** A file operation failed inside the sandbox; `details.errno` is the POSIX name. */
export class FileError extends PaddockError {
  constructor(status: number, code: string, message: string, details: ErrorDetails = {}) {
    super(code, status, message, details);
  }
}

export class ConflictError extends PaddockError {
  constructor(message: string, details: ErrorDetails = {}, code = 'conflict') {
    super(code, 409, message, details);
  }
}

export class SandboxExitedError extends PaddockError {
  constructor(id: string, message = `sandbox ${id} exited`) {
    super('sandbox_exited', 410, message, { id });
  }
}

export class PayloadTooLargeError extends PaddockError {
  constructor(limitBytes: number) {
    super('payload_too_large', 413, `request body exceeds the limit of ${limitBytes} bytes`, { limitBytes });
  }
}

export class TimeoutError extends PaddockError {
  constructor(message: string, details: ErrorDetails = {}, code = 'timeout') {
    super(code, 504, message, details);
  }
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

  constructor(result: { exitCode: number; stdout: string; stderr: string; signal?: string | null }, timeoutMs?: number) {
    super(
      timeoutMs ? `command timed out after ${formatDuration(timeoutMs)} and was killed` : 'command timed out and was killed',
      {
        exitCode: result.exitCode,
        signal: result.signal ?? null,
        ...(timeoutMs ? { timeoutMs } : {}),
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

  constructor(result: { exitCode: number; stdout: string; stderr: string; signal?: string | null }) {
    super('command_exit', 422, `command exited with code ${result.exitCode}`, {
      exitCode: result.exitCode,
      signal: result.signal ?? null,
    });
    this.exitCode = result.exitCode;
    this.stdout = result.stdout;
    this.stderr = result.stderr;
  }
}

export class RuntimeError extends PaddockError {
  constructor(message: string, details: ErrorDetails = {}, code = 'runtime_error') {
    super(code, 500, message, details);
  }
}

export class UnavailableError extends PaddockError {
  constructor(message: string, details: ErrorDetails = {}, code = 'unavailable') {
    super(code, 503, message, details);
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
    super('connection_lost', 503, message, { ...details, retryable: true });
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
    super('quota_exceeded', 429, message, details);
  }
}

const byCode: Record<string, new (...args: never[]) => PaddockError> = {};

/**
 * Rebuilds the most specific error class from an API error body, so SDK users
 * can `instanceof` the same classes the daemon throws.
 */
export function errorFromBody(status: number, body: { error?: { code?: string; message?: string; details?: ErrorDetails } } | undefined): PaddockError {
  const code = body?.error?.code ?? `http_${status}`;
  const message = body?.error?.message ?? `request failed with HTTP ${status}`;
  const details = body?.error?.details ?? {};
  const make = (proto: object): PaddockError => {
    const err = new PaddockError(code, status, message, details);
    Object.setPrototypeOf(err, proto);
    (err as { name: string }).name = (proto as { constructor: { name: string } }).constructor.name;
    return err;
  };
  const known = byCode[code];
  if (known) return make(known.prototype);
  if (status === 400) return make(BadRequestError.prototype);
  if (status === 401) return make(UnauthorizedError.prototype);
  if (status === 404) return make(NotFoundError.prototype);
  if (status === 409) return make(ConflictError.prototype);
  if (status === 413) return make(PayloadTooLargeError.prototype);
  if (status === 504 || status === 408) return make(TimeoutError.prototype);
  return make(PaddockError.prototype);
}

Object.assign(byCode, {
  bad_request: BadRequestError,
  invalid_request: ValidationError,
  unauthorized: UnauthorizedError,
  policy_denied: PolicyDeniedError,
  quota_exceeded: QuotaExceededError,
  exceeds_host_capacity: HostCapacityError,
  forbidden_origin: ForbiddenOriginError,
  approval_required: ApprovalRequiredError,
  approval_denied: ApprovalDeniedError,
  not_found: NotFoundError,
  sandbox_not_found: SandboxNotFoundError,
  template_not_found: TemplateNotFoundError,
  process_not_found: ProcessNotFoundError,
  conflict: ConflictError,
  sandbox_exited: SandboxExitedError,
  payload_too_large: PayloadTooLargeError,
  timeout: TimeoutError,
  command_timeout: CommandTimeoutError,
  command_exit: CommandExitError,
  runtime_error: RuntimeError,
  unavailable: UnavailableError,
  connection_lost: ConnectionLostError,
});
