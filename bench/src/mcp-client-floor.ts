import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';

/**
 * The floor of an MCP tool call over HTTP: a server in a process of its own
 * on the host that answers every tools/call at once with a fixed result the
 * size of run_command's (no session checks, no tools, no sandbox). A client's
 * time against it is its HTTP stack and its own work, so what the MCP SDK's
 * client costs beyond a bare POST over Node's http is measured apart from
 * anything the daemon does.
 */
const source = String.raw`'use strict';
const http = require('http');
const output = { pid: 1, exitCode: 0, signal: null, oomKilled: false, timedOut: false, stdout: '', stderr: '', truncated: false };
const result = { content: [{ type: 'text', text: JSON.stringify(output) }], structuredContent: output };
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    if (req.method !== 'POST') {
      res.writeHead(req.method === 'DELETE' ? 200 : 405).end();
      return;
    }
    const message = JSON.parse(Buffer.concat(chunks).toString());
    if (message.id === undefined) {
      res.writeHead(202).end();
      return;
    }
    const answer = message.method === 'initialize'
      ? { protocolVersion: message.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'floor', version: '0' } }
      : result;
    const body = JSON.stringify({ jsonrpc: '2.0', id: message.id, result: answer });
    res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 'floor', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.keepAliveTimeout = 120000;
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\n'));
`;

/**
 * The same over stdio: a process that answers every tools/call on its stdin
 * at once. An MCP client's time against it is its own work and the pipes',
 * which `paddock mcp` pays before anything of Paddock's.
 */
export const mcpStdioFloorSource = String.raw`'use strict';
const output = { pid: 1, exitCode: 0, signal: null, oomKilled: false, timedOut: false, stdout: '', stderr: '', truncated: false };
const result = { content: [{ type: 'text', text: JSON.stringify(output) }], structuredContent: output };
let pending = '';
process.stdin.on('data', (chunk) => {
  pending += chunk;
  let nl;
  while ((nl = pending.indexOf('\n')) >= 0) {
    const line = pending.slice(0, nl);
    pending = pending.slice(nl + 1);
    if (!line.trim()) continue;
    const message = JSON.parse(line);
    if (message.id === undefined) continue;
    const answer = message.method === 'initialize'
      ? { protocolVersion: message.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'floor', version: '0' } }
      : result;
    process.stdout.write(JSON.stringify({ jsonrpc: '2.0', id: message.id, result: answer }) + '\n');
  }
});
`;

export interface McpClientFloor {
  url: string;
  stop(): Promise<void>;
}

export async function startMcpClientFloor(timeoutMs = 10_000): Promise<McpClientFloor> {
  const child: ChildProcess = spawn(process.execPath, ['-e', source], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the MCP client floor server did not start in ${timeoutMs} ms`)), timeoutMs);
    child.stdout?.once('data', (d: Buffer) => {
      clearTimeout(timer);
      resolve(Number(String(d).trim()));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the MCP client floor server exited (${code})`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
