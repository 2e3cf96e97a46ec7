import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ApiClient, Commands } from '@paddock/sdk';

/**
 * The floor of an MCP server on stdio that runs commands through the SDK:
 * a process of its own that answers each tools/call on its stdin with the
 * SDK's exec of the call's `cmd` in its `sandboxId` (the daemon at
 * PADDOCK_URL, PADDOCK_TOKEN), and nothing else: no MCP server library, no
 * validation, no tools. `paddock mcp` pays all of this (two processes on
 * pipes, the SDK in the second) before its own MCP work.
 */
export const mcpStdioRelayFile = fileURLToPath(import.meta.url);

interface Message {
  id?: number | string;
  method?: string;
  params?: { protocolVersion?: string; arguments?: { sandboxId: string; cmd: string[] } };
}

async function answer(api: ApiClient, message: Message): Promise<unknown> {
  if (message.method === 'initialize') {
    return { protocolVersion: message.params?.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'stdio-relay-floor', version: '0' } };
  }
  const call = message.params?.arguments;
  if (message.method !== 'tools/call' || !call) return {};
  const output = await new Commands(api, call.sandboxId).runAllowingFailure(call.cmd, { timeoutMs: 60_000 });
  return { content: [{ type: 'text', text: JSON.stringify(output) }], structuredContent: output };
}

async function serve(): Promise<void> {
  const api = new ApiClient({ url: process.env.PADDOCK_URL, token: process.env.PADDOCK_TOKEN });
  for await (const line of createInterface({ input: process.stdin })) {
    if (!line.trim()) continue;
    const message = JSON.parse(line) as Message;
    // A client's notifications (initialized) want no answer.
    if (message.id === undefined) continue;
    process.stdout.write(`${JSON.stringify({ jsonrpc: '2.0', id: message.id, result: await answer(api, message) })}\n`);
  }
}

if (process.argv[1] === mcpStdioRelayFile) await serve();
