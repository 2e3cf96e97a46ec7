import type { Recording, RecordingFrames } from '@paddock/core';
import type { ApiClient, RequestOptions } from './api-client.js';
import { apiCall } from './api-routes.js';

/** A sandbox's takeover recordings: who took it over when, and each session's asciicast v2 file. */
export class Recordings {
  constructor(
    private readonly api: ApiClient,
    private readonly sandboxId: string,
  ) {}

  /** Oldest first; a takeover still going on has no endedAt nor sha256 yet. */
  async list(options: RequestOptions = {}): Promise<Recording[]> {
    const { recordings } = await this.api.json<{ recordings: Recording[] }>(apiCall('GET /v1/sandboxes/{id}/recordings', { id: this.sandboxId }), options);
    return recordings;
  }

  /** The cast: a JSON header line, then one `[seconds, "o" | "i", text]` line per output or input. */
  async get(sessionId: string, options: RequestOptions = {}): Promise<string> {
    const res = await this.api.fetch(apiCall('GET /v1/sandboxes/{id}/recordings/{sessionId}', { id: this.sandboxId, sessionId }), options);
    return res.text();
  }

  /** A desktop takeover's frames: the screen while the person held it, one kept whenever it changed. */
  async frames(sessionId: string, options: RequestOptions = {}): Promise<RecordingFrames> {
    return this.api.json<RecordingFrames>(apiCall('GET /v1/sandboxes/{id}/recordings/{sessionId}/frames', { id: this.sandboxId, sessionId }), options);
  }

  /** One frame of a desktop takeover, as PNG bytes. */
  async frame(sessionId: string, index: number, options: RequestOptions = {}): Promise<Uint8Array> {
    const res = await this.api.fetch(
      apiCall('GET /v1/sandboxes/{id}/recordings/{sessionId}/frames/{index}', { id: this.sandboxId, sessionId, index }),
      options,
    );
    return new Uint8Array(await res.arrayBuffer());
  }
}
