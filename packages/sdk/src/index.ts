export type { CommandResult, FileEntry, ProcessInfo, SandboxInfo, TemplateInfo } from '@paddock/core';
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
} from '@paddock/core/client';
export { ApiClient, type ConnectionOptions, type RequestOptions } from './api-client.js';
export { type AttachCallbacks, AttachedProcess } from './attach.js';
export { type Command, CommandHandle, type CommandOptions, Commands, type StartOptions } from './commands.js';
export { type FileData, type FileOptions, Files } from './files.js';
export { Pty, PtyHandle, type PtyOptions } from './pty.js';
export { Sandbox, type SandboxCreateOptions, type SandboxListOptions } from './sandbox.js';
export { type TemplateBuildOptions, Templates } from './templates.js';
