import type { Recording } from '@paddock/core';
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
}
