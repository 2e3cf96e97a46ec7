import type { ProcessInfo } from '@paddock/core';
import type { ApiClient, RequestOptions } from './api-client.js';
import { apiCall } from './api-routes.js';
import { type AttachExit, AttachedProcess } from './attach.js';

export interface PtyOptions extends RequestOptions {
  cols: number;
  rows: number;
  onData: (data: Uint8Array) => void;
  /** Program to run; a login shell (bash -l) by default. */
  cmd?: string[];
  user?: string;
  cwd?: string;
  env?: Record<string, string>;
}

/** An interactive terminal in the sandbox. */
export class PtyHandle {
  constructor(
    readonly pid: number,
    private readonly attached: AttachedProcess,
  ) {}

  toJSON(): { pid: number } {
    return { pid: this.pid };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `PtyHandle { pid: ${this.pid} }`;
  }

  sendInput(data: string | Uint8Array): void {
    this.attached.write(data);
  }

  resize(size: { cols: number; rows: number }): void {
    this.attached.resize(size.cols, size.rows);
  }

  kill(): void {
    this.attached.signal('SIGKILL');
  }

  /** Resolves when the terminal's program exits. */
  wait(): Promise<AttachExit> {
    return this.attached.exited;
  }

  disconnect(): void {
    this.attached.disconnect();
  }
}

export class Pty {
  constructor(
    private readonly api: ApiClient,
    private readonly sandboxId: string,
  ) {}

  async create(options: PtyOptions): Promise<PtyHandle> {
    const info = await this.api.json<ProcessInfo>(apiCall('POST /v1/sandboxes/{id}/processes', { id: this.sandboxId }), {
      json: {
        cmd: options.cmd ?? ['/bin/bash', '-l'],
        pty: { cols: options.cols, rows: options.rows },
        user: options.user,
        cwd: options.cwd,
        env: options.env,
      },
      signal: options.signal,
      timeoutMs: options.timeoutMs,
    });
    const attached = await AttachedProcess.open(this.api, apiCall('GET /v1/sandboxes/{id}/processes/{pid}/attach', { id: this.sandboxId, pid: info.pid }), {
      onStdout: options.onData,
    });
    return new PtyHandle(info.pid, attached);
  }

  /**
   * Joins a terminal that is already running, e.g. after a restart of the
   * daemon broke the connection (wait() then rejects with ConnectionLostError):
   * the output the daemon kept comes first, then what follows.
   */
  async connect(pid: number, options: Pick<PtyOptions, 'onData'>): Promise<PtyHandle> {
    const attached = await AttachedProcess.open(this.api, apiCall('GET /v1/sandboxes/{id}/processes/{pid}/attach', { id: this.sandboxId, pid }), {
      onStdout: options.onData,
    });
    return new PtyHandle(pid, attached);
  }
}
