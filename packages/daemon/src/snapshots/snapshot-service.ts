import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ConflictError,
  type ForkCreate,
  ForkCreateSchema,
  QuotaExceededError,
  type SnapshotCreate,
  SnapshotCreateSchema,
  type TemplateInfo,
} from '@paddock/core';
import type { SandboxHost } from '@paddock/engine';
import type { Logger } from 'pino';
import type { SandboxService } from '../sandboxes/sandbox-service.js';
import type { SandboxRecord, SandboxStore } from '../store/sandbox-store.js';
import type { TemplateRecord, TemplateStore } from '../store/template-store.js';
import type { TenantStore } from '../store/tenant-store.js';
import { toTemplateInfo } from '../templates/template-service.js';

export interface SnapshotServiceDeps {
  engine: SandboxHost;
  sandboxes: SandboxService;
  sandboxStore: SandboxStore;
  templates: TemplateStore;
  tenants: TenantStore;
  layersDir: string;
  logger: Logger;
}

/**
 * Snapshots and forks of running sandboxes. A snapshot is the sandbox's
 * writable layer kept as a new read-only layer on top of its template's, under
 * a template name: immutable, usable to create sandboxes, kept across
 * restarts. A fork is a new sandbox on such a layer (hidden, and removed with
 * the fork); the original keeps running untouched.
 */
export class SnapshotService {
  constructor(private readonly deps: SnapshotServiceDeps) {}

  async snapshot(owner: string, id: string, input: SnapshotCreate, signal?: AbortSignal): Promise<TemplateInfo> {
    const { name } = SnapshotCreateSchema.parse(input);
    const source = this.deps.sandboxes.requireLive(owner, id);
    if (this.deps.templates.get(name)) throw new ConflictError(`template ${name} already exists`, { template: name }, 'template_exists');
    const quota = this.deps.tenants.get(owner)?.maxSnapshots;
    const kept = this.deps.templates.snapshotsOf(owner);
    if (quota !== null && quota !== undefined && kept + 1 > quota) {
      throw new QuotaExceededError(`quota exceeded: tenant ${owner} may keep at most ${quota} snapshots; remove one first`, {
        tenant: owner,
        quota: 'maxSnapshots',
        limit: quota,
        requested: kept + 1,
      });
    }
    const budgetMiB = this.deps.tenants.get(owner)?.maxSnapshotMiB;
    const usedMiB = this.deps.templates.snapshotBytesOf(owner) / 1048576;
    if (budgetMiB !== null && budgetMiB !== undefined && usedMiB >= budgetMiB) throw sizeQuota(owner, budgetMiB, usedMiB);
    const record = await this.capture(owner, source, name, 'snapshot', signal);
    // Its size is known only once taken: over the budget, it goes again.
    if (budgetMiB !== null && budgetMiB !== undefined && usedMiB + record.sizeBytes / 1048576 > budgetMiB) {
      await this.removeTemplate(record);
      throw sizeQuota(owner, budgetMiB, usedMiB + record.sizeBytes / 1048576);
    }
    this.deps.logger.info({ sandbox: id, template: name, bytes: record.sizeBytes }, 'snapshot taken');
    return toTemplateInfo(record);
  }

  /** `createdBy`: the person asking, the fork's owner (the source's may be someone else of the tenant). */
  async fork(owner: string, id: string, input: ForkCreate, { signal, createdBy }: { signal?: AbortSignal; createdBy?: string } = {}): Promise<SandboxRecord> {
    const request = ForkCreateSchema.parse(input);
    const source = this.deps.sandboxes.requireLive(owner, id);
    const layer = await this.capture(owner, source, `fork-${randomBytes(6).toString('hex')}`, 'fork', signal);
    try {
      return await this.deps.sandboxes.create(
        owner,
        {
          template: layer.name,
          tier: source.tier,
          limits: source.limits,
          writableLayer: source.writableLayer,
          metadata: source.metadata,
          env: source.env,
          timeoutMs: request.timeoutMs,
          onTimeout: source.onTimeout,
          ...this.deps.sandboxes.networkRequestOf(source.id),
        },
        { signal, createdBy },
      );
    } catch (err) {
      await this.removeTemplate(layer);
      throw err;
    }
  }

  /** Removes a fork's hidden layer once nothing uses it any more. */
  async releaseForkLayer(sandboxId: string): Promise<void> {
    const sandbox = this.deps.sandboxStore.get(sandboxId);
    const template = sandbox && this.deps.templates.get(sandbox.template);
    if (template?.kind !== 'fork') return;
    if (this.deps.sandboxStore.live().some((s) => s.template === template.name)) return;
    // A snapshot of the fork stacks on its layer: it stays for that snapshot.
    if (this.deps.templates.children(template.name).length) return;
    await this.removeTemplate(template);
  }

  /** Hidden fork layers nothing uses any more (a crash can leave them): their names. */
  async collectForkLayers(): Promise<string[]> {
    const removed: string[] = [];
    const live = new Set(this.deps.sandboxStore.live().map((s) => s.template));
    for (const t of this.deps.templates.list()) {
      if (t.kind !== 'fork' || live.has(t.name) || this.deps.templates.children(t.name).length) continue;
      // A fork's sandbox is recorded only once it started: a young fork layer may still get one.
      if (Date.now() - Date.parse(t.createdAt) < 10 * 60_000) continue;
      await this.removeTemplate(t);
      removed.push(t.name);
    }
    return removed;
  }

  private async capture(owner: string, source: SandboxRecord, name: string, kind: 'snapshot' | 'fork', signal?: AbortSignal): Promise<TemplateRecord> {
    const template = this.deps.templates.get(source.template);
    if (!template) throw new ConflictError(`the template of sandbox ${source.id} is gone`, { id: source.id }, 'template_gone');
    const layerDir = join(this.deps.layersDir, `l-${randomBytes(8).toString('hex')}`, 'rootfs');
    // Stopped when the source ends (its teardown waits for the copy), or when the caller leaves.
    const sizeBytes = await this.deps.sandboxes.exclusively(
      source.id,
      kind,
      (stop) => this.deps.engine.snapshot(source.id, layerDir, { signal: stop }),
      signal,
    );
    const record: TemplateRecord = {
      name,
      parent: template.name,
      layerDirs: [layerDir, ...template.layerDirs],
      env: template.env,
      workdir: template.workdir,
      user: template.user,
      createdAt: new Date().toISOString(),
      sizeBytes,
      kind,
      owner,
    };
    this.deps.templates.put(record);
    return record;
  }

  private async removeTemplate(template: TemplateRecord): Promise<void> {
    this.deps.templates.remove(template.name);
    const own = template.layerDirs[0];
    if (own) await rm(join(own, '..'), { recursive: true, force: true });
  }
}

function sizeQuota(tenant: string, limitMiB: number, wouldBeMiB: number): QuotaExceededError {
  const rounded = Math.round(wouldBeMiB * 10) / 10;
  return new QuotaExceededError(`quota exceeded: tenant ${tenant} may keep ${limitMiB} MiB of snapshots; with this one it would be ${rounded} MiB`, {
    tenant,
    quota: 'maxSnapshotMiB',
    limit: limitMiB,
    requested: rounded,
  });
}
