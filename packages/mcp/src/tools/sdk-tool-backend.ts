import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { type ApiClient, Commands, type ConnectionOptions, Files, Gateway } from '@paddock/sdk';
import type { ToolBackend } from './tool-backend.js';

/** The tools' calls through the SDK: the daemon's HTTP API, wherever it runs. */
export function sdkToolBackend(api: ApiClient, connection: ConnectionOptions): ToolBackend {
  return {
    runCommand: (sandboxId, { cmd, ...options }, signal) => new Commands(api, sandboxId).runAllowingFailure(cmd, { ...options, signal }),
    readFileHead: (sandboxId, path, maxBytes, access) => new Files(api, sandboxId).readHead(path, maxBytes, access),
    writeFile: (sandboxId, path, data, access) => new Files(api, sandboxId).write(path, data, access),
    listFiles: (sandboxId, path, access) => new Files(api, sandboxId).list(path, access),
    callGatewayTool: async (name, args, { signal, approvalId, approvalWaitSeconds }) =>
      (await Gateway.callTool(name, args, {
        ...connection,
        signal,
        // The call's own deadline is the client's to set (an MCP client cancels); an approval's wait is bounded by approvalWaitSeconds.
        timeoutMs: 0,
        ...(approvalId ? { approvalId } : { approvalWaitSeconds }),
      })) as CallToolResult,
    listGatewayTools: (signal) => Gateway.tools({ ...connection, signal, timeoutMs: 10_000 }),
    followGatewayTools: async function* (signal) {
      for await (const { tools } of Gateway.followTools({ ...connection, signal })) yield tools;
    },
  };
}
