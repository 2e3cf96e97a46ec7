import { type ConnectionOptions, whoami } from '@paddock/sdk';
import { createPaddockMcp, type PaddockMcp } from '../create-paddock-mcp-server.js';
import { describeError } from '../results/describe-error.js';
import { outputLimits } from '../results/output-limits.js';
import { cancelledIds, type DirectCall, DirectCalls, plainToolsCall } from '../tools/direct-calls.js';
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
  const { server, callTool } = createPaddockMcp(connection, {
    work,
    signal: session.signal,
    gateway: { approvalWaitSeconds: options.approvalWaitSeconds },
    onListError: (err) => log(`paddock mcp: the gateway's tools are left out of the list: ${describeError(err)}`),
  });
  const transport = new StdioLineTransport(process.stdin, process.stdout, outputLimits.stdioMessageBytes);
  answerPlainCallsDirectly(transport, server, callTool, session.signal, log);
  const closed = new Promise<void>((resolve) => {
    server.server.onclose = () => {
      // Calls in flight end as the SDK's own handlers do when the connection closes.
      session.abort();
      resolve();
    };
  });
  server.server.onerror = (err) => log(`paddock mcp: ${err.message}`);
  const close = () => void server.close();
  process.stdin.once('end', close);
  process.stdin.once('close', close);
  options.signal?.addEventListener('abort', close, { once: true });
  await server.connect(transport);
  void checkToken(connection, log);
  await closed;
  process.stdin.off('end', close).off('close', close);
  options.signal?.removeEventListener('abort', close);
  await work.settled();
}

/**
 * Answers a plain tools/call of an initialized client from the tool table,
 * past the MCP SDK's protocol layer (its request bookkeeping and schema
 * checks: in A/B runs of the bench, `run_command` over stdio went from +0.63
 * and +0.66 ms over the SDK's exec to +0.56 and +0.59); the tool and its
 * result are the same either way. A notifications/cancelled for its id
 * aborts it, as does the connection's end, and then, as the SDK does,
 * nothing is sent.
 */
function answerPlainCallsDirectly(
  transport: StdioLineTransport,
  server: PaddockMcp['server'],
  callTool: PaddockMcp['callTool'],
  ended: AbortSignal,
  log: (line: string) => void,
): void {
  const direct = new DirectCalls();
  const answer = async (call: DirectCall) => {
    const { result, cancelled } = await direct.run(call.id, (signal) => callTool(call.name, call.args, signal), [ended]);
    if (!cancelled) await transport.send({ jsonrpc: '2.0', id: call.id, result });
  };
  transport.intercept = (message) => {
    // Still passed on: the SDK drops it for an id it does not know. (A batch is not stdio MCP: the SDK refuses the line.)
    if (!Array.isArray(message)) direct.cancel(cancelledIds(message));
    // Before the client's initialize the SDK answers everything, as it always has.
    const call = server.server.getClientVersion() ? plainToolsCall(message) : undefined;
    if (!call) return false;
    answer(call).catch((err: unknown) => log(`paddock mcp: ${describeError(err)}`));
    return true;
  };
}

/** Says at once, on stderr, when the daemon cannot be reached or refuses the token, rather than only on the first tool call. */
async function checkToken(connection: ConnectionOptions, log: (line: string) => void): Promise<void> {
  try {
    await whoami({ ...connection, timeoutMs: 5000 });
  } catch (err) {
    log(`paddock mcp: ${describeError(err)}; every tool call will fail the same way until this is fixed`);
  }
}
