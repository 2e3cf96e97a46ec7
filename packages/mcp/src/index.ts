export { createPaddockMcp, createPaddockMcpServer, type PaddockMcp, type PaddockMcpServerOptions } from './create-paddock-mcp-server.js';
export { sandboxFileUriTemplate } from './files/file-resource.js';
export type { GatewayToolOptions } from './gateway-tools/gateway-tool-source.js';
export { type ServeStdioOptions, serveStdio } from './stdio/serve-stdio.js';
export { cancelledIds, type DirectCall, DirectCalls, plainToolsCall } from './tools/direct-calls.js';
export { PendingWork } from './tools/pending-work.js';
export type { CommandRequest, GatewayCallOptions, ToolBackend } from './tools/tool-backend.js';
