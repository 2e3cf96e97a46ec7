/**
 * Every error code Paddock reports, once: its HTTP status, the class the SDK
 * rebuilds from an API body with that code, and what it means. Programs match
 * on these strings, so a code is never renamed; a new one is added here first
 * (constructors take only codes of this table, and a test holds the sources,
 * docs/errors.md and the SDK's rebuilding to it).
 *
 * `client` marks codes the SDK makes itself (the daemon never sends them).
 */
export const errorCodes = {
  // 400: the request is wrong; sending it again unchanged fails again.
  bad_request: { status: 400, error: 'BadRequestError', meaning: 'the request is wrong in a way no narrower code names' },
  invalid_request: { status: 400, error: 'ValidationError', meaning: 'fields failed their schema; details.fields names each one' },
  invalid_json: { status: 400, error: 'BadRequestError', meaning: 'the request body is not valid JSON' },
  bad_host: { status: 400, error: 'BadRequestError', meaning: 'the Host header names no host' },
  bad_archive: { status: 400, error: 'BadRequestError', meaning: 'an uploaded archive could not be extracted' },
  invalid_cwd: { status: 400, error: 'BadRequestError', meaning: 'the working directory of a command cannot be used' },
  invalid_policy: { status: 400, error: 'BadRequestError', meaning: 'a Cedar policy does not parse or validate' },
  invalid_config: { status: 400, error: 'BadRequestError', meaning: 'the tier config file cannot be read or is invalid' },
  invalid_setting: { status: 400, error: 'BadRequestError', meaning: 'a daemon setting (flag, variable or settings table) is invalid' },
  invalid_paddockfile: { status: 400, error: 'BadRequestError', meaning: 'a Paddockfile line is invalid; details.line names it' },
  invalid_dockerfile: { status: 400, error: 'BadRequestError', meaning: 'a Dockerfile line is invalid or cannot be honoured; details.line names it' },
  build_context_refused: { status: 400, error: 'BadRequestError', meaning: 'a build context entry or a COPY/ADD source is outside the context or not in it' },
  build_step_failed: { status: 400, error: 'BadRequestError', meaning: 'a template build step exited non-zero' },
  kernel_unavailable: {
    status: 400,
    error: 'BadRequestError',
    meaning: "the sandbox's template has no kernel for the language (use the code-interpreter template)",
  },
  unsupported_option: {
    status: 400,
    error: 'BadRequestError',
    meaning: 'an E2B option Paddock cannot honour as asked (details.field names it); refused rather than done otherwise',
  },
  desktop_unavailable: {
    status: 400,
    error: 'BadRequestError',
    meaning: 'the sandbox has no X display to see or act on (use the desktop template)',
  },
  invalid_coordinates: {
    status: 400,
    error: 'BadRequestError',
    meaning: "a desktop action's point or a screenshot's region is off the screen; details.screen gives its size",
  },
  unknown_key: { status: 400, error: 'BadRequestError', meaning: "a key name is not on the desktop's key list; details.key names it" },
  tier_unavailable: { status: 400, error: 'BadRequestError', meaning: 'the isolation tier asked for is not available on this host' },
  not_own_request: { status: 400, error: 'BadRequestError', meaning: 'self-approval of an approval asked for someone else' },
  gateway_file_missing: { status: 400, error: 'BadRequestError', meaning: 'a host path in a gateway manifest does not exist' },
  gateway_file_refused: { status: 400, error: 'BadRequestError', meaning: 'a host path in a gateway manifest may not be given to a server' },
  gateway_template_not_shared: { status: 400, error: 'BadRequestError', meaning: 'a server given host files must run from a shared template' },
  exceeds_host_capacity: { status: 400, error: 'HostCapacityError', meaning: 'limits ask for more memory, CPUs or disk than the host has' },
  is_a_directory: { status: 400, error: 'BadRequestError', meaning: 'a file operation named a directory (EISDIR)' },
  not_a_directory: { status: 400, error: 'BadRequestError', meaning: 'a path part is not a directory (ENOTDIR)' },
  path_too_long: { status: 400, error: 'BadRequestError', meaning: 'a path is too long (ENAMETOOLONG)' },
  too_many_symlinks: { status: 400, error: 'BadRequestError', meaning: 'a path has too many symbolic links (ELOOP)' },
  invalid_argument: { status: 400, error: 'BadRequestError', meaning: 'the sandbox refused an argument (EINVAL)' },
  cross_device: { status: 400, error: 'BadRequestError', meaning: 'a move across file systems (EXDEV)' },
  unknown_user: { status: 400, error: 'BadRequestError', meaning: 'no such user in the sandbox (ESRCH)' },
  invalid_image: { status: 400, error: 'BadRequestError', meaning: 'not an image Paddock can use (format, platform, digest); details say why' },
  image_layer_refused: { status: 400, error: 'BadRequestError', meaning: 'an image layer holds an entry Paddock refuses; details.entry names it' },
  image_too_large: { status: 400, error: 'BadRequestError', meaning: 'an image layer or the whole image is over its size limit; details.limitBytes' },
  insecure_registry: { status: 400, error: 'BadRequestError', meaning: 'the registry is plain HTTP or its TLS fails, and the operator has not allowed it' },
  invalid_port: { status: 400, error: 'BadRequestError', meaning: 'a port is not a number from 1 to 65535' },
  registry_auth_failed: { status: 400, error: 'BadRequestError', meaning: 'the registry refused the credentials, or asks for some' },
  volume_fill_failed: {
    status: 400,
    error: 'BadRequestError',
    meaning: "a volume could not be filled from the template's folder (no such folder, say); no volume is made",
  },

  // 401, 403: who is asking, and whether they may.
  unauthorized: { status: 401, error: 'UnauthorizedError', meaning: 'the token is missing or invalid' },
  token_expired: { status: 401, error: 'UnauthorizedError', meaning: 'the token has passed its expiry (details.expiresAt)' },
  policy_denied: { status: 403, error: 'PolicyDeniedError', meaning: 'a policy forbids the action' },
  scope_denied: { status: 403, error: 'PolicyDeniedError', meaning: "the action, template, tier or labels are outside the token's scope; details.field" },
  scope_wider: { status: 403, error: 'PolicyDeniedError', meaning: 'a scoped token asked for a token wider than itself; details.field names where' },
  token_exhausted: { status: 403, error: 'PolicyDeniedError', meaning: 'the token has used all its uses or sandboxes; details.field, details.limit' },
  forbidden_origin: { status: 403, error: 'ForbiddenOriginError', meaning: 'a browser page on another origin called the API' },
  csrf_failed: {
    status: 403,
    error: 'PolicyDeniedError',
    meaning: "a request signed in by the session cookie changes state without the session's X-CSRF-Token header",
  },
  takeover_refused: { status: 403, error: 'PolicyDeniedError', meaning: "only a person's token takes over a sandbox, not an agent's (owner agent:…)" },
  terminal_read_only: {
    status: 403,
    error: 'PolicyDeniedError',
    meaning: 'input to a taken-over terminal from anyone but the taker, or from a viewer (mode=view)',
  },
  desktop_view_only: {
    status: 403,
    error: 'PolicyDeniedError',
    meaning: "the desktop's live view with mouse and keyboard, opened by anyone but the person who took the sandbox over",
  },
  forbidden_host: { status: 403, error: 'ForbiddenHostError', meaning: 'the request names a host this daemon does not serve (DNS rebinding)' },
  approval_required: { status: 403, error: 'ApprovalRequiredError', meaning: 'a person must approve first; details.approvalId names the request' },
  approval_denied: { status: 403, error: 'ApprovalDeniedError', meaning: 'the approval was denied, expired or is no longer usable' },
  permission_denied: { status: 403, error: 'FileError', meaning: 'the sandbox refused a file operation (EACCES, EPERM)' },
  read_only: { status: 403, error: 'FileError', meaning: 'the file system is read-only (EROFS)' },

  // 404: nothing by that name (for this caller).
  not_found: { status: 404, error: 'NotFoundError', meaning: 'the thing named does not exist' },
  recording_not_found: { status: 404, error: 'NotFoundError', meaning: 'no such takeover recording of the sandbox' },
  dashboard_not_built: { status: 404, error: 'NotFoundError', meaning: 'the dashboard app is not built (make build), or --dashboard-dir has none' },
  route_not_found: { status: 404, error: 'NotFoundError', meaning: 'no API route for this method and path' },
  sandbox_not_found: { status: 404, error: 'SandboxNotFoundError', meaning: 'no such sandbox, or it has ended' },
  template_not_found: { status: 404, error: 'TemplateNotFoundError', meaning: 'no such template' },
  process_not_found: { status: 404, error: 'ProcessNotFoundError', meaning: 'no such process in the sandbox' },
  code_context_not_found: { status: 404, error: 'NotFoundError', meaning: 'no such code context in the sandbox' },
  approval_not_found: { status: 404, error: 'NotFoundError', meaning: 'no such approval' },
  checkpoint_not_found: { status: 404, error: 'NotFoundError', meaning: 'no such checkpoint of the sandbox' },
  tenant_not_found: { status: 404, error: 'NotFoundError', meaning: 'no such tenant' },
  token_not_found: { status: 404, error: 'NotFoundError', meaning: 'no such token' },
  pool_not_found: { status: 404, error: 'NotFoundError', meaning: 'no such pool' },
  secret_not_found: { status: 404, error: 'NotFoundError', meaning: 'no such secret' },
  gateway_server_not_found: { status: 404, error: 'NotFoundError', meaning: 'no such gateway server' },
  gateway_tool_not_found: { status: 404, error: 'NotFoundError', meaning: 'no such gateway tool' },
  volume_not_found: { status: 404, error: 'NotFoundError', meaning: 'no such volume' },
  file_not_found: { status: 404, error: 'NotFoundError', meaning: 'no such file in the sandbox (ENOENT)' },
  image_not_found: { status: 404, error: 'NotFoundError', meaning: 'the registry has no such image, tag or digest' },
  port_link_not_found: { status: 404, error: 'NotFoundError', meaning: 'no such public link to a port of the sandbox' },
  registry_login_not_found: { status: 404, error: 'NotFoundError', meaning: 'no registry login for that host' },

  // 409: the request is fine, the state is not (yet).
  conflict: { status: 409, error: 'ConflictError', meaning: 'the current state does not allow it' },
  already_taken_over: { status: 409, error: 'ConflictError', meaning: 'someone else has taken the sandbox over; details.by names them' },
  human_in_control: {
    status: 409,
    error: 'ConflictError',
    meaning: "a person has taken the sandbox over: an agent's desktop and browser input waits for the handback; details.by names them",
  },
  not_taken_over: { status: 409, error: 'ConflictError', meaning: 'handback of a sandbox nobody has taken over' },
  kernel_dead: { status: 409, error: 'ConflictError', meaning: "the code context's kernel died; restart the context" },
  sandbox_paused: { status: 409, error: 'ConflictError', meaning: 'the sandbox is paused; resume it first' },
  sandbox_running: { status: 409, error: 'ConflictError', meaning: 'the sandbox is running, not paused (an E2B resume of a running sandbox)' },
  template_exists: { status: 409, error: 'ConflictError', meaning: 'a template by that name exists' },
  template_gone: { status: 409, error: 'ConflictError', meaning: 'the template of the sandbox no longer exists' },
  template_in_use: { status: 409, error: 'ConflictError', meaning: 'the template is built in, a parent, or used by sandboxes' },
  tenant_exists: { status: 409, error: 'ConflictError', meaning: 'a tenant by that name exists' },
  tenant_in_use: {
    status: 409,
    error: 'ConflictError',
    meaning: 'the tenant still has sandboxes (or killed ones still being torn down), templates, volumes or servers, or is the default',
  },
  checkpoint_limit: { status: 409, error: 'ConflictError', meaning: 'the sandbox keeps as many checkpoints as it may' },
  port_in_use: { status: 409, error: 'ConflictError', meaning: 'paddockd cannot listen: the address is taken (a start-up failure, never an API answer)' },
  network_disabled: { status: 409, error: 'ConflictError', meaning: 'the sandbox was made without network' },
  approval_decided: { status: 409, error: 'ConflictError', meaning: 'the approval was already decided' },
  state_dir_locked: { status: 409, error: 'ConflictError', meaning: 'another paddockd holds the state folder' },
  gateway_server_exists: { status: 409, error: 'ConflictError', meaning: 'a gateway server by that name exists' },
  gateway_server_not_ready: { status: 409, error: 'ConflictError', meaning: 'the gateway server is not ready to be pinned' },
  gateway_tools_changed: { status: 409, error: 'ConflictError', meaning: 'the tools changed since they were shown; look again before pinning' },
  gateway_tool_changed: { status: 409, error: 'ConflictError', meaning: 'the tool is held back until an operator pins it again' },
  volume_exists: { status: 409, error: 'ConflictError', meaning: 'a volume by that name exists' },
  volume_in_use: {
    status: 409,
    error: 'ConflictError',
    meaning: 'the volume is mounted in a live sandbox (read-write, or read-only when asked for read-write)',
  },
  file_exists: { status: 409, error: 'ConflictError', meaning: 'the file exists (EEXIST)' },
  directory_not_empty: { status: 409, error: 'ConflictError', meaning: 'the directory is not empty (ENOTEMPTY)' },

  // Other client-side failures.
  sandbox_exited: { status: 410, error: 'SandboxExitedError', meaning: 'the sandbox exited' },
  payload_too_large: { status: 413, error: 'PayloadTooLargeError', meaning: 'the request body exceeds its limit; details.limitBytes' },
  file_too_large: { status: 413, error: 'FileError', meaning: 'the file exceeds a size limit in the sandbox (EFBIG)' },
  command_exit: { status: 422, error: 'CommandExitError', meaning: 'client: a command exited non-zero; exitCode, stdout and stderr are kept' },
  unsafe_archive: { status: 422, error: 'FileError', meaning: 'client: entries of a downloaded archive were left out as unsafe' },
  quota_exceeded: { status: 429, error: 'QuotaExceededError', meaning: "the tenant's quota would be exceeded" },
  aborted: { status: 499, error: 'PaddockError', meaning: "client: the caller's signal aborted the call" },
  detached: { status: 499, error: 'PaddockError', meaning: 'client: the attach connection closed before the process exited' },

  // 5xx: the daemon, a sandbox or the connection failed; the request may be fine.
  internal_error: { status: 500, error: 'PaddockError', meaning: 'a bug: the daemon log has details under the request id' },
  runtime_error: { status: 500, error: 'RuntimeError', meaning: 'the container runtime or the host failed' },
  agent_protocol_error: { status: 500, error: 'RuntimeError', meaning: 'the in-sandbox agent answered out of order or malformed' },
  agent_connection_lost: { status: 500, error: 'RuntimeError', meaning: 'the connection to the in-sandbox agent broke' },
  sandbox_io_error: { status: 500, error: 'RuntimeError', meaning: 'a file operation failed in the sandbox; details.errno' },
  port_not_listening: { status: 502, error: 'UnavailableError', meaning: 'nothing listens on that port inside the sandbox' },
  build_interrupted: { status: 502, error: 'PaddockError', meaning: 'client: the build stream ended without a result' },
  unavailable: { status: 503, error: 'UnavailableError', meaning: 'not available now; try again later' },
  gateway_server_unavailable: { status: 503, error: 'UnavailableError', meaning: 'the gateway server is stopped or not ready' },
  gateway_server_crashed: { status: 503, error: 'UnavailableError', meaning: 'the gateway server ended during the call' },
  gateway_server_error: { status: 503, error: 'UnavailableError', meaning: 'the gateway server failed the call' },
  registry_unreachable: { status: 503, error: 'UnavailableError', meaning: 'the registry could not be reached or failed; details say how' },
  resource_exhausted: { status: 503, error: 'FileError', meaning: 'the sandbox is out of memory or processes (EAGAIN, ENOMEM)' },
  connection_failed: { status: 503, error: 'PaddockError', meaning: 'client: the daemon cannot be reached (nothing was sent)' },
  connection_lost: { status: 503, error: 'ConnectionLostError', meaning: 'client: the connection broke mid-call; retryable, details.pid names a command' },
  attach_failed: { status: 503, error: 'PaddockError', meaning: 'client: the attach WebSocket could not open (status: the refusal, if any)' },
  timeout: { status: 504, error: 'TimeoutError', meaning: 'a call or an operation took longer than its timeout' },
  command_timeout: { status: 504, error: 'CommandTimeoutError', meaning: 'a command was killed at its timeout; exitCode, stdout and stderr are kept' },
  wait_timeout: { status: 504, error: 'TimeoutError', meaning: 'a wait ended at its timeout; the command goes on' },
  no_space: { status: 507, error: 'FileError', meaning: 'the sandbox is out of disk space or quota (ENOSPC, EDQUOT)' },
} as const satisfies Record<string, { status: number; error: string; meaning: string }>;

/** A code of the table; `http_<status>` is an error body with no code of its own (a proxy's, say). */
export type PaddockErrorCode = keyof typeof errorCodes | `http_${number}`;

/** The class names the table refers to. */
export type ErrorClassName = (typeof errorCodes)[keyof typeof errorCodes]['error'];

/** The codes a class (or the classes given) is made with. */
export type CodeOf<C extends ErrorClassName> = {
  [K in keyof typeof errorCodes]: (typeof errorCodes)[K]['error'] extends C ? K : never;
}[keyof typeof errorCodes];

/** The code's HTTP status, or undefined for a code this version does not know. */
export function statusOfCode(code: string): number | undefined {
  return Object.hasOwn(errorCodes, code) ? errorCodes[code as keyof typeof errorCodes].status : undefined;
}
