import { daemonNodeFlags, engineEntry, type FloorServer, startFloorProcess } from './floor-process.js';

/**
 * The floor of a gateway tool call over HTTP, written in Node: an HTTP server
 * in a process of its own that starts an MCP server in a sandbox through its
 * agent (the same AgentClient as the daemon, stdin held open) and relays each
 * JSON-RPC POST to it as one line, answering with the line that carries the
 * same id as JSON. One relay serves one client, one call at a time. No
 * authentication, session, validation, MCP library, policy, audit or log:
 * what a tool call through it costs beyond the server run directly is the
 * HTTP hop, Node and the sandbox; what the gateway costs beyond it is
 * Paddock's own work.
 */
const source = String.raw`
import http from 'node:http';
const { AgentClient } = await import(process.argv[2]);
const [, , , socket, sandboxId, ...cmd] = process.argv;
const agent = new AgentClient(socket, sandboxId);
const waiting = new Map();
let pending = '';
const session = await agent.exec(
  { cmd, env: ['PATH=/usr/local/bin:/usr/bin:/bin'], cwd: '/' },
  {
    onStdout: (data) => {
      pending += data;
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        const id = JSON.parse(line).id;
        const answer = waiting.get(id);
        waiting.delete(id);
        answer?.(line);
      }
    },
  },
  { timeoutMs: 10000 },
);
const server = http.createServer((req, res) => {
  const parts = [];
  req.on('data', (d) => parts.push(d));
  req.on('end', () => {
    if (req.method !== 'POST') return void res.writeHead(req.method === 'DELETE' ? 200 : 405).end();
    const text = Buffer.concat(parts).toString();
    const { id } = JSON.parse(text);
    if (id !== undefined) {
      waiting.set(id, (line) => {
        res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 'floor', 'content-length': Buffer.byteLength(line) });
        res.end(line);
      });
    }
    void session.write(text + '\n');
    if (id === undefined) res.writeHead(202).end();
  });
});
server.keepAliveTimeout = 120000;
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\n'));
`;

export type McpGatewayFloor = FloorServer;

/** Starts the relay for `cmd` in one sandbox (through its agent socket), with the daemon's Node flags; stop() ends it, and its server with it. */
export async function startMcpGatewayFloor(dir: string, agentSocket: string, sandboxId: string, cmd: string[]): Promise<McpGatewayFloor> {
  const floor = await startFloorProcess({
    dir,
    fileName: 'mcp-gateway-floor.mjs',
    source,
    args: [engineEntry(), agentSocket, sandboxId, ...cmd],
    what: 'the gateway floor relay',
    nodeFlags: daemonNodeFlags,
  });
  return { url: `http://127.0.0.1:${floor.port}/mcp`, pid: floor.pid, stop: () => floor.stop() };
}
