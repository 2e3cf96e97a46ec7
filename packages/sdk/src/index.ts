export { ApiClient, type ConnectionOptions, type RequestOptions } from './api-client.js';
export { AttachedProcess, type AttachCallbacks } from './attach.js';
export { CommandHandle, Commands, type Command, type CommandOptions, type StartOptions } from './commands.js';
export { Files, type FileData, type FileOptions } from './files.js';
export { Pty, PtyHandle, type PtyOptions } from './pty.js';
export { Sandbox, type SandboxCreateOptions, type SandboxListOptions } from './sandbox.js';
export { Templates, type TemplateBuildOptions } from './templates.js';
export {
  BadRequestError,
  CommandExitError,
  ConflictError,
  FileError,
  NotFoundError,
  PaddockError,
  PayloadTooLargeError,
  ProcessNotFoundError,
  SandboxNotFoundError,
  TemplateNotFoundError,
  TimeoutError,
  UnauthorizedError,
  ValidationError,
  type CommandResult,
  type FileEntry,
  type ProcessInfo,
  type SandboxInfo,
  type TemplateInfo,
} from '@paddock/core';
