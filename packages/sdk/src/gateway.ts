import type { GatewayManifestInput, GatewayServerInfo, GatewayToolInfo, GatewayToolResult } from '@paddock/core';
import { ApiClient, type ConnectionOptions, type RequestOptions } from './api-client.js';
import { apiCall } from './api-routes.js';
import { type ApprovalOptions, approvalRequestHeaders, approvalWaitMs } from './approval-options.js';

type CallOptions = ConnectionOptions & RequestOptions;

export interface GatewayServerSpec {
  /** argv of the server inside its sandbox; it speaks MCP on stdin and stdout. */
  command: string[];
  manifest: GatewayManifestInput;
  /** Pin its tool descriptions as first listed. */
  pin?: boolean;
}

/**
 * The gateway: third-party MCP servers run in sandboxes under their
 * manifests, their tools called through Paddock's policy, approvals and audit.
 *
 *   await Gateway.add('github', { command: ['npx', '-y', 'some-github-mcp-server'], manifest: { network: { allow: ['api.github.com'] }, secrets: ['GITHUB_TOKEN'] } })
 *   await Gateway.callTool('github__create_issue', { title: 'hi' })
 */
export const Gateway = {
  /** Adds a server (409 if the name is taken); it starts in the background. */
  async add(name: string, spec: GatewayServerSpec, options: CallOptions = {}): Promise<GatewayServerInfo> {
    return new ApiClient(options).json<GatewayServerInfo>(apiCall('POST /v1/gateway/servers'), { ...options, json: { name, ...spec } });
  },

  /** Adds a server or replaces its command and manifest (it starts again; pins stay). */
  async set(name: string, spec: GatewayServerSpec, options: CallOptions = {}): Promise<GatewayServerInfo> {
    return new ApiClient(options).json<GatewayServerInfo>(apiCall('PUT /v1/gateway/servers/{name}', { name }), { ...options, json: spec });
  },

  async list(options: CallOptions = {}): Promise<GatewayServerInfo[]> {
    return (await new ApiClient(options).json<{ servers: GatewayServerInfo[] }>(apiCall('GET /v1/gateway/servers'), options)).servers;
  },

  async get(name: string, options: CallOptions = {}): Promise<GatewayServerInfo> {
    return new ApiClient(options).json<GatewayServerInfo>(apiCall('GET /v1/gateway/servers/{name}', { name }), options);
  },

  async remove(name: string, options: CallOptions = {}): Promise<void> {
    await new ApiClient(options).json(apiCall('DELETE /v1/gateway/servers/{name}', { name }), options);
  },

  async restart(name: string, options: CallOptions = {}): Promise<GatewayServerInfo> {
    return new ApiClient(options).json<GatewayServerInfo>(apiCall('POST /v1/gateway/servers/{name}/restart', { name }), options);
  },

  /**
   * Pins the tool descriptions as listed now; a tool that changes afterwards
   * is held back until pinned again. With `digests` (tool → digest, from the
   * tools you reviewed), the pin is refused if the listing changed since.
   */
  async pin(name: string, options: CallOptions & { digests?: Record<string, string> } = {}): Promise<GatewayServerInfo> {
    const { digests, ...call } = options;
    return new ApiClient(call).json<GatewayServerInfo>(apiCall('POST /v1/gateway/servers/{name}/pin', { name }), { ...call, json: digests ? { digests } : {} });
  },

  async logs(name: string, options: CallOptions & { lines?: number } = {}): Promise<string[]> {
    return (
      await new ApiClient(options).json<{ lines: string[] }>(apiCall('GET /v1/gateway/servers/{name}/logs', { name }), {
        ...options,
        query: { lines: options.lines },
      })
    ).lines;
  },

  /** Every tool of the gateway's servers; `offered: false` marks one held back. */
  async tools(options: CallOptions = {}): Promise<GatewayToolInfo[]> {
    return (await new ApiClient(options).json<{ tools: GatewayToolInfo[] }>(apiCall('GET /v1/gateway/tools'), options)).tools;
  },

  /**
   * The tools now, then again each time the offered ones change, until
   * `signal` aborts, which ends the iteration (no error; no timeout unless
   * `timeoutMs` is given).
   */
  followTools(options: CallOptions = {}): AsyncGenerator<{ tools: GatewayToolInfo[] }> {
    return new ApiClient(options).ndjson<{ tools: GatewayToolInfo[] }>(apiCall('GET /v1/gateway/tools'), {
      query: { follow: true },
      timeoutMs: options.timeoutMs ?? 0,
      signal: options.signal,
      endOnAbort: true,
    });
  },

  /** Calls a tool by its namespaced name; a tool that failed is a result with isError, a refusal an error. */
  async callTool(name: string, args: Record<string, unknown> = {}, options: CallOptions & ApprovalOptions = {}): Promise<GatewayToolResult> {
    const wait = approvalWaitMs(options);
    return new ApiClient(options).json<GatewayToolResult>(apiCall('POST /v1/gateway/tools/{name}/call', { name }), {
      ...options,
      json: { arguments: args },
      headers: approvalRequestHeaders(options),
      ...(wait ? { timeoutMs: (options.timeoutMs ?? 60_000) + wait } : {}),
    });
  },

  /** The manifest's JSON Schema (no token needed). */
  async manifestSchema(options: CallOptions = {}): Promise<Record<string, unknown>> {
    return new ApiClient(options).json<Record<string, unknown>>(apiCall('GET /v1/gateway/manifest.schema.json'), options);
  },
};
