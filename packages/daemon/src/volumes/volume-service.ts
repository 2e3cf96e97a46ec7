import { randomBytes } from 'node:crypto';
import {
  ConflictError,
  NotFoundError,
  QuotaExceededError,
  type SandboxVolume,
  SandboxVolumeSchema,
  type VolumeCreate,
  VolumeCreateSchema,
  type VolumeInfo,
} from '@paddock/core';
import type { HostMount } from '@paddock/engine';
import type { Logger } from 'pino';
import type { TenantStore } from '../store/tenant-store.js';
import type { VolumeDisk } from './volume-disk.js';
import { VolumeFiles } from './volume-files.js';
import type { VolumeMountRecord, VolumeRecord, VolumeStore } from './volume-store.js';

export interface VolumeServiceDeps {
  store: VolumeStore;
  disk: VolumeDisk;
  tenants: TenantStore;
  logger: Logger;
  /** Copies a template's folder into a new volume's mounted root (done in a sandbox: see volume-seed.ts). */
  fillFromTemplate: (tenant: string, from: NonNullable<VolumeCreate['from']>, root: string, signal?: AbortSignal) => Promise<void>;
}

/**
 * A tenant's volumes: created, listed, removed, mounted into its sandboxes
 * (one read-write, or any number read-only) and reached without a sandbox.
 * Another tenant's volume does not exist for a caller (404).
 */
export class VolumeService {
  /** Creations in flight, per tenant, so two concurrent ones cannot slip past a quota together. */
  private readonly pending = new Map<string, { volumes: number; sizeMiB: number }>();
  /** Names being created, so a second create of the same name waits for no mkfs to fail. */
  private readonly creating = new Set<string>();

  constructor(private readonly deps: VolumeServiceDeps) {}

  /** Makes a volume, empty or holding a copy of a template's folder; it exists for others only once it is filled. */
  async create(tenant: string, input: VolumeCreate, options: { signal?: AbortSignal } = {}): Promise<VolumeInfo> {
    const request = VolumeCreateSchema.parse(input);
    const key = `${tenant}/${request.name}`;
    if (this.deps.store.get(tenant, request.name) || this.creating.has(key)) {
      throw new ConflictError(`volume ${request.name} exists`, { name: request.name }, 'volume_exists');
    }
    const release = this.reserve(tenant, request.sizeMiB);
    this.creating.add(key);
    const id = `vol-${randomBytes(6).toString('hex')}`;
    try {
      await this.deps.disk.create(id, request.sizeMiB);
      if (request.from) {
        await this.deps.fillFromTemplate(tenant, request.from, this.deps.disk.mountPointOf(id), options.signal);
      }
      const record: VolumeRecord = { id, tenant, name: request.name, sizeMiB: request.sizeMiB, createdAt: new Date().toISOString() };
      this.deps.store.insert(record);
      this.deps.logger.info({ volume: id, tenant, name: request.name, sizeMiB: request.sizeMiB }, 'volume created');
      return this.info(record);
    } catch (err) {
      await this.deps.disk.remove(id).catch((e) => this.deps.logger.error({ err: e, volume: id }, 'removing a half-made volume failed'));
      throw err;
    } finally {
      this.creating.delete(key);
      release();
    }
  }

  async list(tenant: string): Promise<VolumeInfo[]> {
    return Promise.all(this.deps.store.list(tenant).map((v) => this.info(v)));
  }

  async get(tenant: string, name: string): Promise<VolumeInfo> {
    return this.info(this.require(tenant, name));
  }

  /** Removes a volume and everything on it; refused while a live sandbox has it mounted. */
  async remove(tenant: string, name: string): Promise<void> {
    const volume = this.require(tenant, name);
    const live = this.deps.store.liveMounts(volume.id);
    if (live.length) {
      throw new ConflictError(
        `volume ${name} is mounted in ${live.map((m) => m.sandboxId).join(', ')}; kill ${live.length === 1 ? 'it' : 'them'} first`,
        { name, sandboxes: live.map((m) => m.sandboxId) },
        'volume_in_use',
      );
    }
    // The record goes first: a crash after it leaves files recover() removes, never a record without its files.
    this.deps.store.delete(volume.id);
    await this.deps.disk.remove(volume.id);
    this.deps.logger.info({ volume: volume.id, tenant, name }, 'volume removed');
  }

  /** Checks a create request's volumes (they exist for this tenant) before anything is made. */
  check(tenant: string, volumes: readonly SandboxVolume[] | undefined): void {
    for (const v of volumes ?? []) this.require(tenant, v.name);
  }

  /**
   * Records the sandbox `sandboxId` as mounting these volumes and returns the
   * host mounts for its bundle. Refused (volume_in_use) when a volume asked
   * read-write is mounted anywhere live, or asked read-only is mounted
   * read-write; the check and the record are one transaction.
   */
  attach(tenant: string, sandboxId: string, volumes: readonly SandboxVolume[]): HostMount[] {
    const wanted = volumes.map((v) => {
      const parsed = SandboxVolumeSchema.parse(v);
      return { volume: this.require(tenant, parsed.name), path: parsed.path.replace(/\/+$/, ''), readOnly: parsed.readOnly };
    });
    this.deps.store.addMounts(sandboxId, wanted, (volume, live, readOnly) => {
      const blocking = readOnly ? live.filter((m) => !m.readOnly) : live;
      if (blocking.length === 0) return;
      const where = blocking.map((m) => m.sandboxId).join(', ');
      const message = readOnly
        ? `volume ${volume.name} is mounted read-write in ${where}; it can be mounted read-only once that sandbox ends`
        : `volume ${volume.name} is mounted in ${where}; one sandbox may mount a volume read-write, or any number read-only`;
      throw new ConflictError(message, { name: volume.name, sandboxes: blocking.map((m) => m.sandboxId) }, 'volume_in_use');
    });
    return wanted.map((w) => ({ path: w.path, source: this.deps.disk.mountPointOf(w.volume.id), writable: !w.readOnly }));
  }

  /** Forgets the mounts of a sandbox that was never made, or is gone from the host. */
  detach(sandboxId: string): void {
    this.deps.store.removeMounts(sandboxId);
  }

  /** The files of a volume, reached without a sandbox. */
  files(tenant: string, name: string): VolumeFiles {
    return new VolumeFiles(this.deps.disk.mountPointOf(this.require(tenant, name).id));
  }

  /**
   * After a restart: mounts every volume the host lost (a reboot), removes
   * images and folders no record names (a create or remove the previous
   * daemon died in).
   */
  async recover(): Promise<{ mounted: string[]; orphans: string[] }> {
    const mounted: string[] = [];
    for (const volume of this.deps.store.all()) {
      if (this.deps.disk.isMounted(volume.id)) continue;
      if (!(await this.deps.disk.hasImage(volume.id))) {
        this.deps.logger.error({ volume: volume.id, tenant: volume.tenant, name: volume.name }, 'volume image missing; the volume cannot be mounted');
        continue;
      }
      await this.deps.disk
        .mount(volume.id)
        .then(() => mounted.push(volume.id))
        .catch((err) => this.deps.logger.error({ err, volume: volume.id }, 'mounting a volume failed'));
    }
    const ids = new Set(this.deps.store.all().map((v) => v.id));
    const orphans = (await this.deps.disk.ids()).filter((id) => !ids.has(id));
    for (const id of orphans) await this.deps.disk.remove(id).catch((err) => this.deps.logger.error({ err, volume: id }, 'removing an orphan volume failed'));
    return { mounted, orphans };
  }

  /** Forgets mounts of sandboxes that ended or were never recorded; only while no create is in flight (start-up). */
  forgetEndedMounts(): void {
    this.deps.store.pruneMounts();
  }

  private require(tenant: string, name: string): VolumeRecord {
    const volume = this.deps.store.get(tenant, name);
    if (!volume) throw new NotFoundError(`volume ${name} not found`, { name }, 'volume_not_found');
    return volume;
  }

  private async info(v: VolumeRecord): Promise<VolumeInfo> {
    return {
      name: v.name,
      sizeMiB: v.sizeMiB,
      usedBytes: await this.deps.disk.usedBytes(v.id).catch(() => null),
      createdAt: v.createdAt,
      mounts: this.deps.store.liveMounts(v.id).map((m: VolumeMountRecord) => ({ sandbox: m.sandboxId, path: m.path, readOnly: m.readOnly })),
    };
  }

  /** Holds the tenant to maxVolumes and maxVolumeMiB; the returned function gives the room back. */
  private reserve(tenant: string, sizeMiB: number): () => void {
    const quotas = this.deps.tenants.get(tenant);
    const used = this.deps.store.usage(tenant);
    const inFlight = this.pending.get(tenant) ?? { volumes: 0, sizeMiB: 0 };
    const after = { volumes: used.volumes + inFlight.volumes + 1, sizeMiB: used.sizeMiB + inFlight.sizeMiB + sizeMiB };
    const checks: Array<['maxVolumes' | 'maxVolumeMiB', number | null | undefined, number, string]> = [
      ['maxVolumes', quotas?.maxVolumes, after.volumes, `at most ${quotas?.maxVolumes} volumes`],
      ['maxVolumeMiB', quotas?.maxVolumeMiB, after.sizeMiB, `at most ${quotas?.maxVolumeMiB} MiB of volumes`],
    ];
    for (const [quota, limit, wanted, wording] of checks) {
      if (limit !== null && limit !== undefined && wanted > limit) {
        throw new QuotaExceededError(`quota exceeded: tenant ${tenant} may have ${wording}; this volume would make it ${wanted}`, {
          tenant,
          quota,
          limit,
          requested: wanted,
        });
      }
    }
    this.pending.set(tenant, { volumes: inFlight.volumes + 1, sizeMiB: inFlight.sizeMiB + sizeMiB });
    return () => {
      const now = this.pending.get(tenant);
      if (!now) return;
      const left = { volumes: now.volumes - 1, sizeMiB: now.sizeMiB - sizeMiB };
      if (left.volumes <= 0) this.pending.delete(tenant);
      else this.pending.set(tenant, left);
    };
  }
}
