"""Typed errors, one class per name in the error table (``_error_codes.py``).

Every error has a stable ``code`` (what programs match on), an HTTP
``status``, a ``message`` and ``details``. An API error body
``{"error": {"code", "message", "details"}}`` becomes the class the table
names for its code, as in the TypeScript SDK.
"""

from __future__ import annotations

from typing import Any

from ._error_codes import ERROR_CODES

ErrorDetails = dict[str, Any]


class PaddockError(Exception):
    code: str
    status: int
    message: str
    details: ErrorDetails

    def __init__(self, code: str, status: int, message: str, details: ErrorDetails | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.message = message
        self.details = details if details is not None else {}

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"

    def to_json(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


def _status(code: str) -> int:
    return ERROR_CODES[code][0]


class BadRequestError(PaddockError):
    def __init__(self, message: str, details: ErrorDetails | None = None, code: str = "bad_request") -> None:
        super().__init__(code, _status(code), message, details)


class ValidationError(BadRequestError):
    """Fields failed their schema; ``details["fields"]`` names each one."""

    def __init__(self, message: str, fields: list[dict[str, str]]) -> None:
        super().__init__(message, {"fields": fields}, "invalid_request")


class HostCapacityError(BadRequestError):
    def __init__(self, message: str, details: ErrorDetails | None = None) -> None:
        super().__init__(message, details, "exceeds_host_capacity")


class UnauthorizedError(PaddockError):
    def __init__(self, message: str = "missing or invalid token") -> None:
        super().__init__("unauthorized", _status("unauthorized"), message)


class PolicyDeniedError(PaddockError):
    def __init__(self, message: str, details: ErrorDetails | None = None) -> None:
        super().__init__("policy_denied", _status("policy_denied"), message, details)


class ForbiddenOriginError(PaddockError):
    def __init__(self, origin: str) -> None:
        super().__init__("forbidden_origin", _status("forbidden_origin"), f"requests from origin {origin} are not allowed", {"origin": origin})


class ForbiddenHostError(PaddockError):
    def __init__(self, host: str) -> None:
        super().__init__("forbidden_host", _status("forbidden_host"), f"requests for host {host} are not served here", {"host": host})


class ApprovalRequiredError(PaddockError):
    """A policy asks a person first; approve ``approval_id`` and call again with ``approval_id=``."""

    def __init__(self, message: str, details: ErrorDetails | None = None) -> None:
        super().__init__("approval_required", _status("approval_required"), message, details)

    @property
    def approval_id(self) -> str:
        value = self.details.get("approvalId")
        return value if isinstance(value, str) else ""


class ApprovalDeniedError(PaddockError):
    def __init__(self, message: str, details: ErrorDetails | None = None) -> None:
        super().__init__("approval_denied", _status("approval_denied"), message, details)


class NotFoundError(PaddockError):
    def __init__(self, message: str, details: ErrorDetails | None = None, code: str = "not_found") -> None:
        super().__init__(code, _status(code), message, details)


class SandboxNotFoundError(NotFoundError):
    def __init__(self, id: str, reason: str | None = None) -> None:
        super().__init__(f"sandbox {id} {reason}" if reason else f"sandbox {id} not found", {"id": id}, "sandbox_not_found")


class TemplateNotFoundError(NotFoundError):
    def __init__(self, name: str) -> None:
        super().__init__(f"template {name} not found", {"template": name}, "template_not_found")


class ProcessNotFoundError(NotFoundError):
    def __init__(self, sandbox_id: str, pid: int) -> None:
        super().__init__(f"process {pid} not found in sandbox {sandbox_id}", {"id": sandbox_id, "pid": pid}, "process_not_found")


class FileError(PaddockError):
    """A file operation failed and no narrower class fits; ``details["errno"]`` is the POSIX name."""

    def __init__(self, code: str, message: str, details: ErrorDetails | None = None) -> None:
        super().__init__(code, _status(code), message, details)


class ConflictError(PaddockError):
    def __init__(self, message: str, details: ErrorDetails | None = None, code: str = "conflict") -> None:
        super().__init__(code, _status(code), message, details)


class SandboxExitedError(PaddockError):
    def __init__(self, id: str, message: str | None = None) -> None:
        super().__init__("sandbox_exited", _status("sandbox_exited"), message or f"sandbox {id} exited", {"id": id})


class PayloadTooLargeError(PaddockError):
    def __init__(self, limit_bytes: int) -> None:
        super().__init__("payload_too_large", _status("payload_too_large"), f"request body exceeds the limit of {limit_bytes} bytes", {"limitBytes": limit_bytes})


class TimeoutError(PaddockError):  # noqa: A001 - the name is the error table's, as in the TypeScript SDK
    def __init__(self, message: str, details: ErrorDetails | None = None, code: str = "timeout") -> None:
        super().__init__(code, _status(code), message, details)


def _outcome(result: dict[str, Any]) -> ErrorDetails:
    return {"exitCode": result.get("exitCode", -1), "signal": result.get("signal"), "stdout": result.get("stdout", ""), "stderr": result.get("stderr", "")}


class _CommandOutcome:
    exit_code: int
    stdout: str
    stderr: str

    def _keep(self, details: ErrorDetails) -> None:
        exit_code, stdout, stderr = details.get("exitCode"), details.get("stdout"), details.get("stderr")
        self.exit_code = exit_code if isinstance(exit_code, int) else -1
        self.stdout = stdout if isinstance(stdout, str) else ""
        self.stderr = stderr if isinstance(stderr, str) else ""


class CommandTimeoutError(TimeoutError, _CommandOutcome):
    """A command killed at its own timeout, with what it wrote until then."""

    def __init__(self, result: dict[str, Any], timeout: float | None = None) -> None:
        details = _outcome(result)
        if timeout:
            details["timeoutMs"] = round(timeout * 1000)
        message = f"command timed out after {timeout:g} s and was killed" if timeout else "command timed out and was killed"
        super().__init__(message, details, "command_timeout")
        self._keep(details)


class CommandExitError(PaddockError, _CommandOutcome):
    """A command exited non-zero; ``exit_code``, ``stdout`` and ``stderr`` are kept."""

    def __init__(self, result: dict[str, Any]) -> None:
        details = _outcome(result)
        super().__init__("command_exit", _status("command_exit"), f"command exited with code {details['exitCode']}", details)
        self._keep(details)


class RuntimeError(PaddockError):  # noqa: A001 - the name is the error table's, as in the TypeScript SDK
    def __init__(self, message: str, details: ErrorDetails | None = None, code: str = "runtime_error") -> None:
        super().__init__(code, _status(code), message, details)


class UnavailableError(PaddockError):
    def __init__(self, message: str, details: ErrorDetails | None = None, code: str = "unavailable") -> None:
        super().__init__(code, _status(code), message, details)


class ConnectionLostError(PaddockError):
    """The connection broke mid-call; commands run on, and the call can be made again (``details["pid"]`` names a command)."""

    def __init__(self, message: str, details: ErrorDetails | None = None) -> None:
        super().__init__("connection_lost", _status("connection_lost"), message, {**(details or {}), "retryable": True})


class QuotaExceededError(PaddockError):
    def __init__(self, message: str, details: ErrorDetails | None = None) -> None:
        super().__init__("quota_exceeded", _status("quota_exceeded"), message, details)


ERROR_CLASSES: dict[str, type[PaddockError]] = {
    cls.__name__: cls
    for cls in (
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
    )
}

# A code this version does not know (a newer daemon's) becomes the class of its status, as near as it gets.
_CLASS_BY_STATUS: dict[int, type[PaddockError]] = {
    400: BadRequestError,
    401: UnauthorizedError,
    404: NotFoundError,
    408: TimeoutError,
    409: ConflictError,
    413: PayloadTooLargeError,
    504: TimeoutError,
}


def error_from_body(status: int, body: object) -> PaddockError:
    """The class the table names for the body's code, with its code, status, message and details; constructors are not run."""
    sent = body.get("error") if isinstance(body, dict) else None
    sent = sent if isinstance(sent, dict) else {}
    sent_code, sent_message, sent_details = sent.get("code"), sent.get("message"), sent.get("details")
    code = sent_code if isinstance(sent_code, str) and sent_code else f"http_{status}"
    message = sent_message if isinstance(sent_message, str) else f"request failed with HTTP {status}"
    details: ErrorDetails = sent_details if isinstance(sent_details, dict) else {}
    known = ERROR_CODES.get(code)
    cls = ERROR_CLASSES[known[1]] if known else _CLASS_BY_STATUS.get(status, PaddockError)
    err = cls.__new__(cls)
    PaddockError.__init__(err, code, status, message, details)
    if isinstance(err, _CommandOutcome):
        err._keep(details)
    return err


def error_from_event(error: object, unknown_status: int) -> PaddockError:
    """An error sent mid-stream (an NDJSON ``error`` event): the table's status for its code."""
    code = error.get("code") if isinstance(error, dict) else None
    known = ERROR_CODES.get(code) if isinstance(code, str) else None
    return error_from_body(known[0] if known else unknown_status, {"error": error})


def describe_sandbox_end(end_reason: str | None) -> str:
    endings = {"killed": "was killed", "timeout": "timed out", "oom": "ran out of memory", "crashed": "crashed", "lost": "was lost while the daemon was down"}
    return endings.get(end_reason or "killed", f"ended ({end_reason})")
