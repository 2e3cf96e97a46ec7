import { BadRequestError, ConflictError, type ErrorDetails, FileError, NotFoundError, type PaddockError, RuntimeError } from '@paddock/core';

type FailureOf = (message: string, details: ErrorDetails) => PaddockError;

// The class follows the status, as the SDK has always rebuilt these (a missing
// file is a NotFoundError); FileError holds the codes no such class fits.
const errnoToError: Record<string, FailureOf> = {
  ENOENT: (m, d) => new NotFoundError(m, d, 'file_not_found'),
  EACCES: (m, d) => new FileError('permission_denied', m, d),
  EPERM: (m, d) => new FileError('permission_denied', m, d),
  EROFS: (m, d) => new FileError('read_only', m, d),
  EEXIST: (m, d) => new ConflictError(m, d, 'file_exists'),
  ENOTEMPTY: (m, d) => new ConflictError(m, d, 'directory_not_empty'),
  EISDIR: (m, d) => new BadRequestError(m, d, 'is_a_directory'),
  ENOTDIR: (m, d) => new BadRequestError(m, d, 'not_a_directory'),
  ENAMETOOLONG: (m, d) => new BadRequestError(m, d, 'path_too_long'),
  ELOOP: (m, d) => new BadRequestError(m, d, 'too_many_symlinks'),
  EINVAL: (m, d) => new BadRequestError(m, d, 'invalid_argument'),
  EXDEV: (m, d) => new BadRequestError(m, d, 'cross_device'),
  ESRCH: (m, d) => new BadRequestError(m, d, 'unknown_user'),
  ENOSPC: (m, d) => new FileError('no_space', m, d),
  EDQUOT: (m, d) => new FileError('no_space', m, d),
  EFBIG: (m, d) => new FileError('file_too_large', m, d),
  EAGAIN: (m, d) => new FileError('resource_exhausted', m, d),
  ENOMEM: (m, d) => new FileError('resource_exhausted', m, d),
};

/** Turns an agent failure frame ("ENOENT /x: No such file…") into a typed error. */
export function agentFailure(text: string): PaddockError {
  const space = text.indexOf(' ');
  const errno = space > 0 ? text.slice(0, space) : text;
  const message = space > 0 ? text.slice(space + 1) : text;
  // Own keys only: the name comes from the sandbox, and "constructor" is no errno.
  const failure = Object.hasOwn(errnoToError, errno) ? errnoToError[errno] : undefined;
  if (failure) return failure(message, { errno });
  if (/^E[A-Z0-9]+$/.test(errno)) return new RuntimeError(message, { errno }, 'sandbox_io_error');
  return new BadRequestError(text);
}
