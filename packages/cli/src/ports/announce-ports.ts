import type { Sandbox } from '@paddock/sdk';

/** How often `run -p` looks for the ports to listen. */
const pollMs = 250;

/**
 * `paddock run -p PORT`: prints each port's URLs on stderr (stdout is the
 * command's) once something listens on it in the sandbox, as `docker run -p`
 * users expect to find their server. Looks until every port has been
 * announced or the command ends.
 */
export function announcePorts(sandbox: Sandbox, ports: number[]): { stop: () => void } {
  const waiting = new Set(ports);
  let stopped = false;
  const look = async () => {
    while (!stopped && waiting.size > 0) {
      try {
        const list = await sandbox.ports.list({ timeoutMs: 5000 });
        for (const p of list.ports) {
          if (!waiting.delete(p.port)) continue;
          process.stderr.write(`port ${p.port}: ${p.hostUrl} (or ${p.pathUrl})\n`);
        }
      } catch {
        // The sandbox is ending with its command: nothing left to announce.
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  };
  void look();
  return {
    stop: () => {
      stopped = true;
    },
  };
}
