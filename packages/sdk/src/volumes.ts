import type { FileEntry, VolumeInfo } from '@paddock/core';
import { NotFoundError } from '@paddock/core/client';
import { ApiClient, type ConnectionOptions, type RequestOptions } from './api-client.js';
import { apiCall } from './api-routes.js';
import type { FileData } from './files.js';
import { bodyAs } from './files.js';
import type { TransportRequest } from './transport.js';

export interface VolumeCreateOptions extends ConnectionOptions, RequestOptions {
  name: string;
  /** Hard size limit in MiB: a write past it fails with ENOSPC. */
  sizeMiB: number;
  /** Start with a copy of a template's (or snapshot's) folder: `{ template: 'py-ds', path: '/work' }`. */
  from?: { template: string; path: string };
}

/** A volume's files, reached without a sandbox. Symlinks in a path are refused, never followed. */
export class VolumeFiles {
  constructor(
    private readonly api: ApiClient,
    private readonly name: string,
  ) {}

  read(path: string, options?: RequestOptions & { format?: 'text' }): Promise<string>;
  read(path: string, options: RequestOptions & { format: 'bytes' }): Promise<Uint8Array>;
  read(path: string, options: RequestOptions & { format: 'stream' }): Promise<ReadableStream<Uint8Array>>;
  async read(path: string, options: RequestOptions & { format?: 'text' | 'bytes' | 'stream' } = {}): Promise<string | Uint8Array | ReadableStream<Uint8Array>> {
    const res = await this.api.fetch(apiCall('GET /v1/volumes/{name}/files', { name: this.name }), {
      query: { path },
      signal: options.signal,
      timeoutMs: options.timeoutMs ?? (options.format === 'stream' ? 0 : undefined),
    });
    return bodyAs(res, options.format);
  }

  /** Writes a file (parents are created); it appears only once complete and belongs to the sandbox's `user`. */
  async write(path: string, data: FileData, options: RequestOptions & { mode?: number } = {}): Promise<FileEntry> {
    const body = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    return this.api.json<FileEntry>(apiCall('PUT /v1/volumes/{name}/files', { name: this.name }), {
      query: { path, mode: options.mode?.toString(8) },
      body: body as TransportRequest['body'],
      headers: { 'content-type': 'application/octet-stream' },
      signal: options.signal,
      timeoutMs: options.timeoutMs,
    });
  }

  async list(path: string, options: RequestOptions = {}): Promise<FileEntry[]> {
    return (await this.api.json<{ entries: FileEntry[] }>(apiCall('GET /v1/volumes/{name}/files/list', { name: this.name }), { ...options, query: { path } }))
      .entries;
  }

  async getInfo(path: string, options: RequestOptions = {}): Promise<FileEntry> {
    return this.api.json<FileEntry>(apiCall('GET /v1/volumes/{name}/files/stat', { name: this.name }), { ...options, query: { path } });
  }

  async exists(path: string, options: RequestOptions = {}): Promise<boolean> {
    try {
      await this.getInfo(path, options);
      return true;
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      throw err;
    }
  }

  async makeDir(path: string, options: RequestOptions = {}): Promise<FileEntry> {
    return this.api.json<FileEntry>(apiCall('POST /v1/volumes/{name}/files/mkdir', { name: this.name }), { ...options, json: { path } });
  }

  /**
   * The whole volume as a tar stream (folders, files, symlinks as links).
   * A sandbox made what is in it: unpack it with extractArchive from
   * `@paddock/sdk/node`, not with a tar run as root.
   */
  async downloadArchive(options: RequestOptions = {}): Promise<ReadableStream<Uint8Array>> {
    const res = await this.api.fetch(apiCall('GET /v1/volumes/{name}/export', { name: this.name }), { ...options, timeoutMs: options.timeoutMs ?? 0 });
    return res.body ?? new ReadableStream();
  }

  /** Extracts a tar stream into the volume: files and folders only; what was left out is named in `skipped`. */
  async uploadArchive(tar: FileData, options: RequestOptions = {}): Promise<{ files: number; dirs: number; skipped: string[] }> {
    return this.api.json(apiCall('PUT /v1/volumes/{name}/import', { name: this.name }), {
      body: tar as TransportRequest['body'],
      headers: { 'content-type': 'application/x-tar' },
      signal: options.signal,
      timeoutMs: options.timeoutMs ?? 0,
    });
  }

  async remove(path: string, options: RequestOptions & { recursive?: boolean } = {}): Promise<void> {
    await this.api.json(apiCall('DELETE /v1/volumes/{name}/files', { name: this.name }), {
      ...options,
      query: { path, recursive: options.recursive ? 'true' : undefined },
    });
  }
}

/** A volume: what it is, and its files. */
export interface Volume {
  info: VolumeInfo;
  files: VolumeFiles;
}

/** A tenant's volumes: file systems with a hard size limit that outlive sandboxes. */
export const Volumes = {
  async create(options: VolumeCreateOptions): Promise<Volume> {
    const api = new ApiClient(options);
    const info = await api.json<VolumeInfo>(apiCall('POST /v1/volumes'), {
      json: { name: options.name, sizeMiB: options.sizeMiB, from: options.from },
      signal: options.signal,
      timeoutMs: options.timeoutMs,
    });
    return { info, files: new VolumeFiles(api, info.name) };
  },

  async list(options: ConnectionOptions & RequestOptions = {}): Promise<VolumeInfo[]> {
    return (await new ApiClient(options).json<{ volumes: VolumeInfo[] }>(apiCall('GET /v1/volumes'), options)).volumes;
  },

  async get(name: string, options: ConnectionOptions & RequestOptions = {}): Promise<Volume> {
    const api = new ApiClient(options);
    const info = await api.json<VolumeInfo>(apiCall('GET /v1/volumes/{name}', { name }), options);
    return { info, files: new VolumeFiles(api, info.name) };
  },

  /** Removes a volume and its files; refused (volume_in_use) while a live sandbox mounts it. */
  async delete(name: string, options: ConnectionOptions & RequestOptions = {}): Promise<void> {
    await new ApiClient(options).json(apiCall('DELETE /v1/volumes/{name}', { name }), options);
  },
};
