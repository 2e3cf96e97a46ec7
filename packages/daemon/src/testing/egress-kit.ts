import type { Server } from 'node:http';
import type { Server as NetServer, Socket } from 'node:net';
import { pino } from 'pino';
import type { ConnectionEntry } from '../network/connection-log.js';
import { HostRules } from '../network/host-rules.js';
import type { SandboxNetwork } from '../network/network-service.js';
import type { AuthorizationRequest, Authorizer, Decision } from '../policy/authorizer.js';

// Stand-ins for the egress proxy's parts' neighbours: a sandbox's network
// record, a resolver answering from a table, a policy answering from a
// function, a connection log keeping what it is told. The parts themselves
// run for real, against servers on 127.0.0.1.

export const silentLogger = pino({ level: 'silent' });

export function sandboxNetwork(id: string, allow: string[], extra: Partial<SandboxNetwork> = {}): SandboxNetwork {
  return { id, tenant: 'tenant-a', mode: 'proxy', allow, deny: [], rules: new HostRules(allow, []), secrets: [], ...extra };
}

export function networksOf(...networks: SandboxNetwork[]): { get(id: string): SandboxNetwork | undefined } {
  const byId = new Map(networks.map((n) => [n.id, n]));
  return { get: (id) => byId.get(id) };
}

/** Names to addresses; an Error is thrown for its name (a resolver that fails). */
export function tableResolver(table: Record<string, string[] | Error>): { resolve(host: string): Promise<string[]>; asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async resolve(host: string) {
      asked.push(host);
      const entry = table[host];
      if (entry instanceof Error) throw entry;
      return entry ?? [];
    },
  };
}

export function resolverError(code: string): Error {
  return Object.assign(new Error(`query failed: ${code}`), { code });
}

export class TestPolicy implements Authorizer {
  generation: number | undefined = 0;
  readonly asked: AuthorizationRequest[] = [];
  constructor(public decide: (request: AuthorizationRequest) => Decision = () => ({ effect: 'allow' })) {}
  async authorize(request: AuthorizationRequest): Promise<Decision> {
    this.asked.push(request);
    return this.decide(request);
  }
}

export function recordingLog(): { entries: ConnectionEntry[]; record(entry: ConnectionEntry): void } {
  const entries: ConnectionEntry[] = [];
  return { entries, record: (entry) => entries.push(entry) };
}

const opened = new WeakMap<Server | NetServer, Set<Socket>>();

/** Listens on 127.0.0.1 at a free port; closeServer cuts what is still connected to it. */
export async function listenLocal(server: Server | NetServer): Promise<number> {
  const sockets = new Set<Socket>();
  opened.set(server, sockets);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return (server.address() as { port: number }).port;
}

export async function closeServer(server: Server | NetServer): Promise<void> {
  for (const socket of opened.get(server) ?? []) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A port on 127.0.0.1 where nothing listens (it was just let go). */
export async function closedPort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  const port = await listenLocal(server);
  await closeServer(server);
  return port;
}

/**
 * Reads a socket until it closes, or until `patienceMs` pass while it stays
 * open: the proxy answering an error leaves it closed, a handler that hangs
 * leaves it open (a client would wait for its own idle timeout).
 */
export function readUntilClosed(socket: Socket, patienceMs = 5000): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const done = (closed: boolean) => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed });
      socket.destroy();
    };
    const timer = setTimeout(() => done(false), patienceMs);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => undefined);
    socket.on('close', () => done(true));
  });
}
