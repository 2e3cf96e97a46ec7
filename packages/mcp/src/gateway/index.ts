// The gateway's MCP client side, apart from the server: the daemon loads
// this when it runs third-party servers, without the Paddock MCP server.
export { type ProcessInput, ProcessTransport, type ProcessTransportLimits } from './process-transport.js';
export { type UpstreamCallOptions, UpstreamClient, type UpstreamConnectOptions, type UpstreamTool, upstreamLimits } from './upstream-client.js';
