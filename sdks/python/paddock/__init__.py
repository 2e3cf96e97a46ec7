"""Paddock: sandboxes for AI agents. ``Sandbox`` and friends block; ``AsyncSandbox`` and friends are the same surface for asyncio.

    from paddock import Sandbox
    with Sandbox.create(template="base") as sbx:
        print(sbx.commands.run(["python3", "-c", "print(2+2)"])["stdout"])
"""

from ._async.commands import AsyncCommandHandle, AsyncCommands
from ._async.files import AsyncFiles
from ._async.network import AsyncNetwork
from ._async.port_forward import AsyncPortForward
from ._async.code import AsyncCode
from ._async.ports import AsyncPorts
from ._async.pty import AsyncPty, AsyncPtyHandle
from ._async.sandbox import AsyncSandbox
from ._async.services import (
    AsyncApprovals,
    AsyncAudit,
    AsyncGateway,
    AsyncPolicies,
    AsyncPools,
    AsyncRegistries,
    AsyncSecrets,
    AsyncTemplates,
    AsyncTenants,
    AsyncTokens,
    AsyncVolume,
    AsyncVolumeFiles,
    AsyncVolumes,
    async_collect_garbage,
    async_health,
    async_whoami,
)
from ._connection import Connection, resolve_connection
from ._error_codes import ERROR_CODES, PaddockErrorCode
from ._errors import (
    ApprovalDeniedError,
    ApprovalRequiredError,
    BadRequestError,
    CommandExitError,
    CommandTimeoutError,
    ConflictError,
    ConnectionLostError,
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
)
from ._sync.commands import CommandHandle, Commands
from ._sync.files import Files
from ._sync.network import Network
from ._sync.port_forward import PortForward
from ._sync.code import Code
from ._sync.ports import Ports
from ._sync.pty import Pty, PtyHandle
from ._sync.sandbox import Sandbox
from ._sync.services import (
    Approvals,
    Audit,
    Gateway,
    Policies,
    Pools,
    Registries,
    Secrets,
    Templates,
    Tenants,
    Tokens,
    Volume,
    VolumeFiles,
    Volumes,
    collect_garbage,
    health,
    whoami,
)
from ._limits import Limits
from ._types import CommandResult

__all__ = [
    "ERROR_CODES",
    "ApprovalDeniedError",
    "ApprovalRequiredError",
    "Approvals",
    "AsyncApprovals",
    "AsyncAudit",
    "AsyncCommandHandle",
    "AsyncCommands",
    "AsyncFiles",
    "AsyncGateway",
    "AsyncNetwork",
    "AsyncPolicies",
    "AsyncPools",
    "AsyncPortForward",
    "AsyncCode",
    "AsyncPorts",
    "AsyncPty",
    "AsyncPtyHandle",
    "AsyncRegistries",
    "AsyncSandbox",
    "AsyncSecrets",
    "AsyncTemplates",
    "AsyncTenants",
    "AsyncTokens",
    "AsyncVolume",
    "AsyncVolumeFiles",
    "AsyncVolumes",
    "Audit",
    "BadRequestError",
    "CommandExitError",
    "CommandHandle",
    "CommandResult",
    "CommandTimeoutError",
    "Commands",
    "ConflictError",
    "Connection",
    "ConnectionLostError",
    "FileError",
    "Files",
    "ForbiddenHostError",
    "ForbiddenOriginError",
    "Gateway",
    "HostCapacityError",
    "Limits",
    "Network",
    "NotFoundError",
    "PaddockError",
    "PaddockErrorCode",
    "PayloadTooLargeError",
    "Policies",
    "PolicyDeniedError",
    "Pools",
    "PortForward",
    "Code",
    "Ports",
    "ProcessNotFoundError",
    "Pty",
    "PtyHandle",
    "QuotaExceededError",
    "Registries",
    "RuntimeError",
    "Sandbox",
    "SandboxExitedError",
    "SandboxNotFoundError",
    "Secrets",
    "TemplateNotFoundError",
    "Templates",
    "Tenants",
    "TimeoutError",
    "Tokens",
    "UnauthorizedError",
    "UnavailableError",
    "ValidationError",
    "Volume",
    "VolumeFiles",
    "Volumes",
    "async_collect_garbage",
    "async_health",
    "async_whoami",
    "collect_garbage",
    "health",
    "resolve_connection",
    "whoami",
]
