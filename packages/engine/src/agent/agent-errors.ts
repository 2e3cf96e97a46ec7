import { BadRequestError, FileError, type PaddockError, RuntimeError } from '@paddock/core';

const errnoToApi: Record<string, { status: number; code: string }> = {
  ENOENT: { status: 404, code: 'file_not_found' },
  EACCES: { status: 403, code: 'permission_denied' },
  EPERM: { status: 403, code: 'permission_denied' },
  EROFS: { status: 403, code: 'read_only' },
  EEXIST: { status: 409, code: 'file_exists' },
  ENOTEMPTY: { status: 409, code: 'directory_not_empty' },
  EISDIR: { status: 400, code: 'is_a_directory' },
  ENOTDIR: { status: 400, code: 'not_a_directory' },
  ENAMETOOLONG: { status: 400, code: 'path_too_long' },
  ELOOP: { status: 400, code: 'too_many_symlinks' },
  EINVAL: { status: 400, code: 'invalid_argument' },
  EXDEV: { status: 400, code: 'cross_device' },
  ESRCH: { status: 400, code: 'unknown_user' },
  ENOSPC: { status: 507, code: 'no_space' },
  EDQUOT: { status: 507, code: 'no_space' },
  EFBIG: { status: 413, code: 'file_too_large' },
  EAGAIN: { status: 503, code: 'resource_exhausted' },
  ENOMEM: { status: 503, code: 'resource_exhausted' },
};

/** Turns an agent failure frame ("ENOENT /x: No such file…") into a typed error. */
export function agentFailure(text: string): PaddockError {
  const space = text.indexOf(' ');
  const errno = space > 0 ? text.slice(0, space) : text;
  const message = space > 0 ? text.slice(space + 1) : text;
  const mapped = errnoToApi[errno];
  if (mapped) return new FileError(mapped.status, mapped.code, message, { errno });
  if (/^E[A-Z0-9]+$/.test(errno)) return new RuntimeError(message, { errno }, 'sandbox_io_error');
  return new BadRequestError(text);
}
