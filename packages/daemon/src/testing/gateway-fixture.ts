import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ConnectionOptions, Gateway, type GatewayServerInfo, Templates } from '@paddock/sdk';

/** The command that starts the test's MCP server inside a sandbox of the fixture template. */
export const fixtureCommand = ['node', '/opt/fixture/server.mjs'];
export const fixtureTemplate = 'mcp-fixture';

/** Builds the template holding testing/fixture-mcp-server.mjs, as a user would build one with their server installed. */
export async function buildFixtureTemplate(conn: ConnectionOptions): Promise<void> {
  const context = mkdtempSync('/tmp/paddock-gw-ctx-');
  try {
    writeFileSync(join(context, 'server.mjs'), readFileSync(fileURLToPath(new URL('./fixture-mcp-server.mjs', import.meta.url))));
    await Templates.build({
      ...conn,
      name: fixtureTemplate,
      paddockfile: 'FROM base\nCOPY server.mjs /opt/fixture/server.mjs\n',
      context: new Uint8Array(execFileSync('tar', ['-c', '-C', context, '.'])),
    });
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

/**
 * The server once it is ready (and `check` holds), polling its state; usable
 * in hooks as well as tests. `meanwhile` runs before each look (a test moving
 * its clock on, say).
 */
export async function whenReady(
  name: string,
  conn: ConnectionOptions,
  check: (s: GatewayServerInfo) => boolean = () => true,
  meanwhile: () => void = () => {},
): Promise<GatewayServerInfo> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    meanwhile();
    const server = await Gateway.get(name, conn);
    if (server.state === 'ready' && check(server)) return server;
    if (Date.now() > deadline)
      throw new Error(`gateway server ${name} not ready in time: ${JSON.stringify({ state: server.state, lastError: server.lastError })}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export const textOf = (result: { content: Array<Record<string, unknown>> }) => result.content.map((c) => c.text).join('');
