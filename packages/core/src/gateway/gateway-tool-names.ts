// Names of gateway tools, apart from the schemas: clients use them without loading zod.

/**
 * Between a gateway server's name and its own tool name in the names clients
 * see (github__create_issue). Server names cannot contain it, so the split is
 * never ambiguous; MCP clients accept it in tool names.
 */
export const gatewayToolSeparator = '__';

export const gatewayServerNamePattern = /^[a-z](?:[a-z0-9-]{0,30}[a-z0-9])?$/;
export const gatewayServerNameMessage = 'gateway server names are lowercase letters, digits and "-", start with a letter, at most 32 characters';

/** The longest tool name MCP allows; a namespaced name must fit it. */
export const maxToolNameChars = 128;

/** The longest name a server's own tool may have, once `<server>__` is put before it. */
export function maxServerToolNameChars(server: string): number {
  return maxToolNameChars - server.length - gatewayToolSeparator.length;
}

export function gatewayToolName(server: string, tool: string): string {
  return `${server}${gatewayToolSeparator}${tool}`;
}

/** "github__create_issue" → { server: "github", tool: "create_issue" }; undefined when it names no gateway tool. */
export function parseGatewayToolName(name: string): { server: string; tool: string } | undefined {
  const at = name.indexOf(gatewayToolSeparator);
  if (at <= 0) return undefined;
  const server = name.slice(0, at);
  const tool = name.slice(at + gatewayToolSeparator.length);
  return gatewayServerNamePattern.test(server) && tool ? { server, tool } : undefined;
}
