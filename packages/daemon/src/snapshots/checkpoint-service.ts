import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type CheckpointInfo, ConflictError, NotFoundError } from '@paddock/core';
import type { SandboxHost } from '@paddock/engine';
import type { Logger } from 'pino';
import type { SandboxService } from '../sandboxes/sandbox-service.js';
import type { SandboxRecord } from '../store/sandbox-store.js';

/** Checkpoints kept per sandbox; each can be as large as its writable layer. */
const maxCheckpointsPerSandbox = 10;

export interface CheckpointServiceDeps {
  engine: SandboxHost;
  sandboxes: SandboxService;
  logger: Logger;
}

/**
 * Cheap file-state checkpoints of a running sandbox, for undo: a copy of its
 * writable layer, kept in the sandbox's own folder (gone with the sandbox).
 * Rollback puts the files back exactly (new, changed and deleted files,
 * modes, owners, links) and restarts the sandbox's processes.
 */
export class CheckpointService {
  constructor(private readonly deps: CheckpointServiceDeps) {}

  async checkpoint(owner: string, id: string, signal?: AbortSignal): Promise<CheckpointInfo> {
    const sandbox = this.deps.sandboxes.requireLive(owner, id);
    return this.deps.sandboxes.exclusively(sandbox.id, 'checkpoint', (stop) => this.take(sandbox, stop), signal);
  }

  private async take(sandbox: SandboxRecord, signal: AbortSignal): Promise<CheckpointInfo> {
    const { id } = sandbox;
    // Checkpoints live on the host's disk, outside the sandbox's own size limit: a few per sandbox.
    const kept = (await readdir(this.dir(sandbox.id)).catch(() => [] as string[])).length;
    if (kept >= maxCheckpointsPerSandbox) {
      throw new ConflictError(`sandbox ${id} keeps ${kept} checkpoints, the most it may`, { id, limit: maxCheckpointsPerSandbox }, 'checkpoint_limit');
    }
    const cpId = `cp_${randomBytes(6).toString('hex')}`;
    // Only root may enter: the copies hold the sandbox's setuid files and private data.
    await mkdir(this.dir(sandbox.id), { recursive: true, mode: 0o700 });
    const sizeBytes = await this.deps.engine.snapshot(sandbox.id, join(this.dir(sandbox.id), cpId, 'rootfs'), { signal });
    const info: CheckpointInfo = { id: cpId, sandboxId: sandbox.id, createdAt: new Date().toISOString(), sizeBytes };
    await writeFile(join(this.dir(sandbox.id), cpId, 'checkpoint.json'), JSON.stringify(info));
    return info;
  }

  async list(owner: string, id: string): Promise<CheckpointInfo[]> {
    const sandbox = this.deps.sandboxes.requireLive(owner, id);
    const names = await readdir(this.dir(sandbox.id)).catch(() => [] as string[]);
    const infos = await Promise.all(names.map((n) => this.read(sandbox.id, n).catch(() => undefined)));
    return infos.filter((i): i is CheckpointInfo => !!i).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async rollback(owner: string, id: string, cpId: string, signal?: AbortSignal): Promise<SandboxRecord> {
    const sandbox = this.deps.sandboxes.requireLive(owner, id);
    await this.read(sandbox.id, cpId).catch(() => {
      throw new NotFoundError(`checkpoint ${cpId} of sandbox ${id} not found`, { id, checkpoint: cpId }, 'checkpoint_not_found');
    });
    // Its processes die with the restart: they are forgotten rather than reported lost.
    await this.deps.sandboxes.restartInPlace(
      sandbox.id,
      () => this.deps.engine.rollback(sandbox.id, join(this.dir(sandbox.id), cpId, 'rootfs'), { signal }),
      (err) => this.deps.logger.error({ err, sandbox: id, checkpoint: cpId }, 'rollback failed; the sandbox is ended'),
    );
    this.deps.logger.info({ sandbox: id, checkpoint: cpId }, 'rolled back');
    return this.deps.sandboxes.markRestarted(sandbox);
  }

  private dir(sandboxId: string): string {
    return join(this.deps.engine.paths(sandboxId).dir, 'checkpoints');
  }

  private async read(sandboxId: string, cpId: string): Promise<CheckpointInfo> {
    return JSON.parse(await readFile(join(this.dir(sandboxId), cpId, 'checkpoint.json'), 'utf8')) as CheckpointInfo;
  }
}
