import { type ConnectionOptions, whoami } from '@paddock/sdk';
import { createPaddockMcpServer } from '../create-paddock-mcp-server.js';
import { describeError } from '../results/describe-error.js';
import { outputLimits } from '../results/output-limits.js';
import { PendingWork } from '../tools/pending-work.js';
import { StdioLineTransport } from './stdio-line-transport.js';

export interface ServeStdioOptions {
  /** Where diagnostics go; stdout carries MCP frames only. Default: process.stderr. */
  log?: (line: string) => void;
  /** Ends the server as if stdin had closed. */
  signal?: AbortSignal;
  /** How long a gateway tool call that a policy asks a human about waits for the answer (0: it returns approval_required at once). */
  approvalWaitSeconds?: number;
}

/**
 * Serves the Paddock MCP server on this process's stdin and stdout until stdin
 * ends (the client went away) or `signal` aborts; resolves once the tool calls
 * in flight have finished their clean-up.
 */
export async function serveStdio(connection: ConnectionOptions = {}, options: ServeStdioOptions = {}): Promise<void> {
  const log = options.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  // Stdout belongs to the protocol: a stray console.log from any library would corrupt a frame.
  console.log = console.info = console.debug = console.error;
  const work = new PendingWork();
  const session = new AbortController();
  const server = createPaddockMcpServer(connection, {
    work,
    signal: session.signal,
    gateway: { approvalWaitSeconds: options.approvalWaitSeconds },
    onListError: (err) => log(`paddock mcp: the gateway's tools are left out of the list: ${describeError(err)}`),
  });
  const transport = new StdioLineTransport(process.stdin, process.stdout, outputLimits.stdioMessageBytes);
  const closed = new Promise<void>((resolve) => {
    server.server.onclose = resolve;
  });
  server.server.onerror = (err) => log(`paddock mcp: ${err.message}`);
  const close = () => void server.close();
  process.stdin.once('end', close);
  process.stdin.once('close', close);
  options.signal?.addEventListener('abort', close, { once: true });
  await server.connect(transport);
  void checkToken(connection, log);
  await closed;
  session.abort();
  process.stdin.off('end', close).off('close', close);
  options.signal?.removeEventListener('abort', close);
  await work.settled();
}

/** Says at once, on stderr, when the daemon cannot be reached or refuses the token, rather than only on the first tool call. */
async function checkToken(connection: ConnectionOptions, log: (line: string) => void): Promise<void> {
  try {
    await whoami({ ...connection, timeoutMs: 5000 });
  } catch (err) {
    log(`paddock mcp: ${describeError(err)}; every tool call will fail the same way until this is fixed`);
  }
}
