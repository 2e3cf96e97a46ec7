import { posix } from 'node:path';
import { Code, ConnectError, createContextKey, type HandlerContext } from '@connectrpc/connect';
import { BadRequestError, PaddockError } from '@paddock/core';
import type { Context } from 'hono';
import type { HttpEnv } from '../../http/http-env.js';
import type { Services } from '../../http/services.js';
import type { SandboxRecord } from '../../store/sandbox-store.js';

/** What an envd call acts on: the request (its principal, for govern), the sandbox, and the user it runs as. */
export interface EnvdCall {
  c: Context<HttpEnv>;
  sandboxId: string;
  /** The sandbox user the SDK named (Basic auth or ?username=), or envd's default, `user`. */
  user: string;
  /** Why the request may not be served (bad token, …), answered by the Connect handler in Connect's shape. */
  refused?: unknown;
}

export const envdCallKey = createContextKey<EnvdCall | undefined>(undefined, { description: 'the envd call' });

/** E2B's default sandbox user; Paddock's base image has it too (uid 1000, home /home/user). */
export const defaultEnvdUser = 'user';

export function callOf(ctx: HandlerContext): EnvdCall {
  const call = ctx.values.get(envdCallKey);
  if (!call) throw new ConnectError('no sandbox named', Code.Internal);
  if (call.refused !== undefined) throw toConnectError(call.refused);
  return call;
}

export function runningSandbox(s: Services, call: EnvdCall): SandboxRecord {
  return s.sandboxes.requireRunning(call.c.get('principal').tenant, call.sandboxId);
}

/**
 * The user's home: where envd resolves relative paths and starts commands.
 * The sandbox (or how to read it) is for other users, whose home is its
 * working folder; root's and `user`'s need no read of it.
 */
export function homeOf(user: string, sandbox: SandboxRecord | (() => SandboxRecord)): string {
  if (user === 'root') return '/root';
  if (user === defaultEnvdUser) return '/home/user';
  return (typeof sandbox === 'function' ? sandbox() : sandbox).workdir;
}

/** A path as the SDK gave it, made absolute from the user's home (as envd does). */
export function absolutePath(path: string, user: string, sandbox: SandboxRecord | (() => SandboxRecord)): string {
  if (path.includes('\0')) throw new BadRequestError('a path cannot hold a NUL byte', {}, 'bad_request');
  if (path.length > 4096) throw new BadRequestError('a path is at most 4096 characters', {}, 'path_too_long');
  return posix.resolve(homeOf(user, sandbox), path || '.');
}

/**
 * Paddock's typed errors as Connect errors, so each SDK raises its own
 * class: not found → NotFoundError (FileNotFoundError for files),
 * a policy's no or a pending approval → an error that shows the message
 * (with the approval's id), a bad argument → InvalidArgumentError.
 */
export function toConnectError(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err;
  if (!(err instanceof PaddockError)) return new ConnectError('internal error; the daemon log has details', Code.Internal);
  const message = `${err.code}: ${err.message}`;
  const metadata = { 'x-paddock-error-code': err.code };
  return new ConnectError(message, codeOf(err), metadata, undefined, err);
}

function codeOf(err: PaddockError): Code {
  switch (err.status) {
    case 400:
    case 413:
    case 422:
      return Code.InvalidArgument;
    case 401:
      return Code.Unauthenticated;
    case 403:
      return Code.PermissionDenied;
    case 404:
      return Code.NotFound;
    case 409:
      return err.code === 'file_exists' ? Code.AlreadyExists : Code.FailedPrecondition;
    case 429:
      return Code.ResourceExhausted;
    case 504:
      return Code.DeadlineExceeded;
    default:
      return err.status === 202 ? Code.PermissionDenied : Code.Internal;
  }
}

/** Runs a handler's body, turning Paddock's errors into Connect's. */
export async function connectCall<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw toConnectError(err);
  }
}
