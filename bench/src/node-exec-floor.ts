import { daemonNodeFlags, engineEntry, type FloorServer, startFloorProcess } from './floor-process.js';

/**
 * The floor of any exec API written in Node: an HTTP server in a process of
 * its own that takes `{ "cmd": [...] }`, runs it through the sandbox's agent
 * as the daemon does (the same AgentClient: one connection per command, stdin
 * closed, output gathered) and answers with the exit code and output as JSON.
 * No authentication, validation, policy, audit, sandbox lookup or logging.
 * POST /ping answers at once, with no agent call.
 * What the API's exec costs beyond it is Paddock's own work; what it costs up
 * to it is the HTTP hop, Node and the agent.
 */
const source = String.raw`
import http from 'node:http';
const { AgentClient } = await import(process.argv[2]);
const agent = new AgentClient(process.argv[3], process.argv[4]);
const server = http.createServer((req, res) => {
  const parts = [];
  req.on('data', (d) => parts.push(d));
  req.on('end', async () => {
    // POST /ping: a round trip that does nothing (the least any API call costs).
    if (req.url === '/ping') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2 });
      return res.end('{}');
    }
    try {
      const { cmd } = JSON.parse(Buffer.concat(parts).toString());
      const out = [], err = [];
      const session = await agent.exec({ cmd, env: [], cwd: '/work' }, { onStdout: (d) => out.push(d), onStderr: (d) => err.push(d) }, { timeoutMs: 10000 });
      session.closeStdin();
      const exit = await session.exited;
      const body = JSON.stringify({ exitCode: exit.exitCode, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    } catch (e) {
      res.writeHead(500);
      res.end(String(e));
    }
  });
});
server.keepAliveTimeout = 120000;
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\n'));
`;

export type NodeExecFloor = FloorServer;

/** Starts the floor server for one sandbox's agent socket, with the daemon's Node flags; stop() ends it. */
export async function startNodeExecFloor(dir: string, agentSocket: string, sandboxId: string): Promise<NodeExecFloor> {
  const floor = await startFloorProcess({
    dir,
    fileName: 'node-exec-floor.mjs',
    source,
    args: [engineEntry(), agentSocket, sandboxId],
    what: 'the exec floor server',
    nodeFlags: daemonNodeFlags,
  });
  return { url: `http://127.0.0.1:${floor.port}`, pid: floor.pid, stop: () => floor.stop() };
}
