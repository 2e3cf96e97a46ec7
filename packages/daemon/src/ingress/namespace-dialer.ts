import { type ChildProcess, spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { UnavailableError } from '@paddock/core';
import type { NamespaceSources } from '@paddock/engine';
import type { Logger } from 'pino';

export interface NamespaceDialerDeps {
  /** The static `paddock-dial` (packages/engine/agent/paddock-dial.c); undefined: every connection is the agent's to open. */
  binary: string | undefined;
  sources: NamespaceSources;
  logger: Logger;
}

/** Why the helper did not hand a socket over, as it names it. */
type DialAnswer = { socket: Socket } | { error: string };

interface Waiting {
  settle: (answer: DialAnswer | undefined) => void;
}

/** A connection the helper could not open because nothing there accepted it: a typed answer, not a fall-back. */
const refusedErrors = new Set(['ECONNREFUSED', 'ECONNRESET']);

/**
 * Opens ingress connections to 127.0.0.1:<port> inside a container sandbox's
 * own network namespace, through `paddock-dial`, one long-lived child that
 * makes the socket there and hands it over on Node's IPC channel (Node cannot
 * enter a namespace itself). The socket is then a TCP socket of the daemon's
 * like any other, which the splice helper can join to a client's: a download
 * crosses one kernel splice and no process in the sandbox. The helper is
 * told a sandbox id and a port, never a path: it finds the namespace itself.
 * When it cannot (helper missing or restarting, a sandbox it finds no
 * namespace for, too many opens at once), dial() answers undefined and the
 * caller asks the agent instead.
 */
export class NamespaceDialer {
  private child: ChildProcess | undefined;
  private ready: Promise<boolean> | undefined;
  private readonly waiting = new Map<number, Waiting>();
  private nextReq = 1;
  private closed = false;

  constructor(private readonly deps: NamespaceDialerDeps) {}

  /**
   * A socket connected to the port inside the sandbox; undefined when the
   * helper cannot open it (the caller falls back). Nothing listening there
   * is the typed `port_not_listening`.
   */
  async dial(sandboxId: string, port: number, options: { timeoutMs: number; signal?: AbortSignal }): Promise<Socket | undefined> {
    if (!(await this.start())) return undefined;
    const child = this.child;
    if (!child?.connected) return undefined;
    const req = this.nextReq++;
    const answer = await new Promise<DialAnswer | undefined>((resolve) => {
      let settled = false;
      const settle = (value: DialAnswer | undefined) => {
        if (settled) {
          // Arrived after the caller gave up: nobody will use it.
          if (value && 'socket' in value) value.socket.destroy();
          return;
        }
        settled = true;
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', abandon);
        resolve(value);
      };
      // The entry stays until the helper answers, so a late socket is still closed.
      const abandon = () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ error: 'ETIMEDOUT' });
      };
      const timer = setTimeout(abandon, options.timeoutMs);
      options.signal?.addEventListener('abort', abandon, { once: true });
      this.waiting.set(req, { settle });
      child.send(`open ${req} ${sandboxId} ${port}`, (err) => {
        if (err) this.answered(req, undefined);
      });
    });
    if (!answer) return undefined;
    if ('socket' in answer) return answer.socket;
    if (refusedErrors.has(answer.error)) {
      throw new UnavailableError(`nothing listens on port ${port} in sandbox ${sandboxId}`, { port }, 'port_not_listening');
    }
    if (answer.error === 'ETIMEDOUT') throw new UnavailableError(`port ${port} in sandbox ${sandboxId} did not accept the connection in time`, { port });
    // nonetns, busy, out of descriptors: the agent may still manage it.
    if (answer.error !== 'nonetns')
      this.deps.logger.warn({ sandbox: sandboxId, port, error: answer.error }, 'paddock-dial did not open a connection; the agent opens it');
    return undefined;
  }

  /** Ends the helper; sockets it handed over are the daemon's and stay open. */
  close(): void {
    this.closed = true;
    this.child?.kill('SIGKILL');
  }

  private answered(req: number, answer: DialAnswer | undefined): void {
    const waiting = this.waiting.get(req);
    if (!waiting) {
      if (answer && 'socket' in answer) answer.socket.destroy();
      return;
    }
    this.waiting.delete(req);
    waiting.settle(answer);
  }

  /** Starts the helper once; false when there is none or it cannot run here (then the agent opens every connection). */
  private start(): Promise<boolean> {
    if (this.ready) return this.ready;
    const binary = this.deps.binary;
    if (!binary || this.closed) return Promise.resolve(false);
    const { netnsDir, procsDir, cgroupPath } = this.deps.sources;
    this.ready = new Promise<boolean>((resolve) => {
      const child = spawn(binary, [netnsDir, procsDir, cgroupPath], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], serialization: 'json' });
      this.child = child;
      // The daemon's life is not tied to its helper's channel.
      child.unref();
      child.channel?.unref();
      child.once('error', (err) => {
        this.deps.logger.warn({ err }, 'paddock-dial did not start; the agent opens every ingress connection');
        resolve(false);
      });
      child.once('exit', (code, signal) => {
        resolve(false);
        for (const req of [...this.waiting.keys()]) this.answered(req, undefined);
        if (this.child !== child) return;
        this.child = undefined;
        // Started again on the next connection, unless the daemon is stopping.
        if (!this.closed) {
          this.deps.logger.warn({ code, signal }, 'paddock-dial exited; the agent opens connections until it is back');
          this.ready = undefined;
        }
      });
      child.on('message', (message: unknown, socket: Socket | undefined) => {
        const m = message as { ready?: boolean; req?: number; error?: string };
        if (typeof m.ready === 'boolean') {
          if (!m.ready) this.deps.logger.warn({ error: m.error }, 'paddock-dial cannot run here; the agent opens every ingress connection');
          return resolve(m.ready);
        }
        if (typeof m.req !== 'number') return void socket?.destroy();
        this.answered(m.req, socket ? { socket } : { error: String(m.error ?? 'error') });
      });
    });
    return this.ready;
  }
}
