import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import type { FileEntry } from '@paddock/core';
import type { AgentEntry, SandboxHost } from '@paddock/engine';
import type { SandboxRecord } from '../store/sandbox-store.js';

const callTimeout = { timeoutMs: 30_000 };

/**
 * File operations on a sandbox. Paths are only normalised here; the agent
 * resolves them inside the sandbox's own mount namespace, where `..` and
 * symlinks cannot lead to the host (probes D3, D4).
 */
export class FileService {
  constructor(private readonly engine: SandboxHost) {}

  resolve(sandbox: SandboxRecord, path: string): string {
    return posix.resolve(sandbox.workdir, path);
  }

  async read(sandbox: SandboxRecord, path: string, user?: string): Promise<{ entry: FileEntry; body: Readable }> {
    const { entry, body } = await this.engine.agent(sandbox.id).readFile(this.resolve(sandbox, path), user ?? sandbox.defaultUser, callTimeout);
    return { entry: toFileEntry(entry), body };
  }

  async write(
    sandbox: SandboxRecord,
    path: string,
    body: AsyncIterable<Uint8Array> | Uint8Array,
    options: { user?: string; mode?: number; signal?: AbortSignal } = {},
  ): Promise<FileEntry> {
    const entry = await this.engine
      .agent(sandbox.id)
      .writeFile(this.resolve(sandbox, path), body, { ...options, user: options.user ?? sandbox.defaultUser, timeoutMs: callTimeout.timeoutMs });
    return toFileEntry(entry);
  }

  async list(sandbox: SandboxRecord, path: string, user?: string): Promise<FileEntry[]> {
    const entries = await this.engine.agent(sandbox.id).list(this.resolve(sandbox, path), user ?? sandbox.defaultUser, callTimeout);
    return entries.map(toFileEntry).sort((a, b) => a.name.localeCompare(b.name));
  }

  async stat(sandbox: SandboxRecord, path: string, user?: string): Promise<FileEntry> {
    return toFileEntry(await this.engine.agent(sandbox.id).stat(this.resolve(sandbox, path), user ?? sandbox.defaultUser, callTimeout));
  }

  async mkdir(sandbox: SandboxRecord, path: string, user?: string): Promise<FileEntry> {
    return toFileEntry(await this.engine.agent(sandbox.id).mkdir(this.resolve(sandbox, path), user ?? sandbox.defaultUser, callTimeout));
  }

  async remove(sandbox: SandboxRecord, path: string, recursive: boolean, user?: string): Promise<void> {
    await this.engine.agent(sandbox.id).remove(this.resolve(sandbox, path), recursive, user ?? sandbox.defaultUser, callTimeout);
  }

  async rename(sandbox: SandboxRecord, from: string, to: string, user?: string): Promise<FileEntry> {
    return toFileEntry(
      await this.engine.agent(sandbox.id).rename(this.resolve(sandbox, from), this.resolve(sandbox, to), user ?? sandbox.defaultUser, callTimeout),
    );
  }
}

export function toFileEntry(e: AgentEntry): FileEntry {
  return {
    name: posix.basename(e.path) || '/',
    path: e.path,
    type: e.type,
    size: e.size,
    mode: e.mode,
    mtime: new Date(e.mtimeMs).toISOString(),
    uid: e.uid,
    gid: e.gid,
    symlinkTarget: e.symlinkTarget,
  };
}
