import type { FileEntry } from '@paddock/core';
import { NotFoundError, takeHead } from '@paddock/core/client';
import type { ApiClient, RequestOptions } from './api-client.js';
import { apiCall } from './api-routes.js';
import type { TransportRequest, TransportResponse } from './transport.js';

export interface FileOptions extends RequestOptions {
  /** Whose permissions apply inside the sandbox: "root" (default), "user" or a uid. */
  user?: string;
}

/** A file's body as text (default), bytes, or the stream itself. */
export async function bodyAs(res: TransportResponse, format: 'text' | 'bytes' | 'stream' = 'text'): Promise<string | Uint8Array | ReadableStream<Uint8Array>> {
  if (format === 'stream') return res.body ?? new ReadableStream();
  if (format === 'bytes') return new Uint8Array(await res.arrayBuffer());
  return res.text();
}

export type FileData = string | Uint8Array | ArrayBuffer | Blob | ReadableStream<Uint8Array>;

export class Files {
  constructor(
    private readonly api: ApiClient,
    private readonly sandboxId: string,
  ) {}

  /** Reads a file as text (default), bytes, or a stream for large files. */
  read(path: string, options?: FileOptions & { format?: 'text' }): Promise<string>;
  read(path: string, options: FileOptions & { format: 'bytes' }): Promise<Uint8Array>;
  read(path: string, options: FileOptions & { format: 'stream' }): Promise<ReadableStream<Uint8Array>>;
  async read(path: string, options: FileOptions & { format?: 'text' | 'bytes' | 'stream' } = {}): Promise<string | Uint8Array | ReadableStream<Uint8Array>> {
    const res = await this.api.fetch(apiCall('GET /v1/sandboxes/{id}/files', { id: this.sandboxId }), {
      query: { path, user: options.user },
      signal: options.signal,
      // A streamed read may rightly outlast the default request timeout; the caller's signal still ends it.
      timeoutMs: options.timeoutMs ?? (options.format === 'stream' ? 0 : undefined),
    });
    return bodyAs(res, options.format);
  }

  /**
   * The first `maxBytes` of a file, streamed, so a huge file costs no more
   * than the cap; `truncated` says whether there was more.
   */
  async readHead(path: string, maxBytes: number, options: FileOptions = {}): Promise<{ bytes: Uint8Array; truncated: boolean }> {
    const stream = await this.read(path, { ...options, format: 'stream' });
    return takeHead(stream as unknown as AsyncIterable<Uint8Array>, maxBytes);
  }

  /** Writes a file (parents are created); large data can be a stream. */
  async write(path: string, data: FileData, options: FileOptions & { mode?: number } = {}): Promise<FileEntry> {
    const body = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    return this.api.json<FileEntry>(apiCall('PUT /v1/sandboxes/{id}/files', { id: this.sandboxId }), {
      query: { path, user: options.user, mode: options.mode?.toString(8) },
      body: body as TransportRequest['body'],
      headers: { 'content-type': 'application/octet-stream' },
      signal: options.signal,
      timeoutMs: options.timeoutMs,
    });
  }

  async list(path: string, options: FileOptions = {}): Promise<FileEntry[]> {
    return (
      await this.api.json<{ entries: FileEntry[] }>(apiCall('GET /v1/sandboxes/{id}/files/list', { id: this.sandboxId }), {
        ...options,
        query: { path, user: options.user },
      })
    ).entries;
  }

  async getInfo(path: string, options: FileOptions = {}): Promise<FileEntry> {
    return this.api.json<FileEntry>(apiCall('GET /v1/sandboxes/{id}/files/stat', { id: this.sandboxId }), { ...options, query: { path, user: options.user } });
  }

  async exists(path: string, options: FileOptions = {}): Promise<boolean> {
    try {
      await this.getInfo(path, options);
      return true;
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      throw err;
    }
  }

  async makeDir(path: string, options: FileOptions = {}): Promise<FileEntry> {
    return this.api.json<FileEntry>(apiCall('POST /v1/sandboxes/{id}/files/mkdir', { id: this.sandboxId }), { ...options, json: { path, user: options.user } });
  }

  async rename(from: string, to: string, options: FileOptions = {}): Promise<FileEntry> {
    return this.api.json<FileEntry>(apiCall('POST /v1/sandboxes/{id}/files/rename', { id: this.sandboxId }), {
      ...options,
      json: { from, to, user: options.user },
    });
  }

  async remove(path: string, options: FileOptions & { recursive?: boolean } = {}): Promise<void> {
    await this.api.json(apiCall('DELETE /v1/sandboxes/{id}/files', { id: this.sandboxId }), {
      ...options,
      query: { path, user: options.user, recursive: options.recursive ? 'true' : undefined },
    });
  }

  /**
   * A tar stream of a file or directory (entries named after its last path
   * element), made inside the sandbox: its root decides what it holds. Unpack
   * it with downloadDir or extractArchive from `@paddock/sdk/node`, which keep
   * setuid files, devices and links out of the folder off this machine; not
   * with a tar run as root.
   */
  async downloadArchive(path: string, options: FileOptions = {}): Promise<ReadableStream<Uint8Array>> {
    const res = await this.api.fetch(apiCall('GET /v1/sandboxes/{id}/archive', { id: this.sandboxId }), {
      ...options,
      query: { path, user: options.user },
      timeoutMs: options.timeoutMs ?? 0,
    });
    return res.body ?? new ReadableStream();
  }

  /** Extracts a tar stream into a directory, creating it if needed. */
  async uploadArchive(dir: string, tar: FileData, options: FileOptions = {}): Promise<FileEntry> {
    return this.api.json<FileEntry>(apiCall('PUT /v1/sandboxes/{id}/archive', { id: this.sandboxId }), {
      query: { path: dir, user: options.user },
      body: tar as TransportRequest['body'],
      headers: { 'content-type': 'application/x-tar' },
      signal: options.signal,
      timeoutMs: options.timeoutMs ?? 0,
    });
  }
}
