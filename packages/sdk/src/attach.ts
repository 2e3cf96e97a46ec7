import type { AttachClientMessage, AttachServerMessage } from '@paddock/core';
import { ConnectionLostError, PaddockError } from '@paddock/core/client';
import type WebSocket from 'ws';
import type { ApiClient } from './api-client.js';
import type { ApiCall } from './api-routes.js';

export interface AttachCallbacks {
  onStdout?: (data: Uint8Array) => void;
  onStderr?: (data: Uint8Array) => void;
}

export type AttachExit = Extract<AttachServerMessage, { type: 'exit' }>['result'];

/** A WebSocket joined to a process: stdin in, output out, resize and signals. */
export class AttachedProcess {
  readonly exited: Promise<AttachExit>;
  private readonly socket: WebSocket;
  private readonly opened: Promise<void>;

  private constructor(WebSocketImpl: typeof WebSocket, api: ApiClient, call: ApiCall, callbacks: AttachCallbacks) {
    const target = api.socketTarget(call);
    this.socket = new WebSocketImpl(target.url, { headers: target.headers, ca: target.ca });
    this.socket.binaryType = 'nodebuffer';
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('unexpected-response', (_req, res) => {
        let text = '';
        res.on('data', (d: Buffer) => {
          text += d.toString();
        });
        res.on('end', () => {
          let message = `attach failed with HTTP ${res.statusCode}`;
          try {
            message = (JSON.parse(text) as { error: { message: string } }).error.message;
          } catch {}
          reject(new PaddockError('attach_failed', res.statusCode ?? 500, message));
        });
      });
      this.socket.once('error', (err) => reject(new PaddockError('attach_failed', 503, err.message)));
    });
    this.exited = new Promise((resolve, reject) => {
      let exit: AttachExit | undefined;
      this.socket.on('message', (data: Buffer, isBinary: boolean) => {
        if (isBinary) {
          const payload = new Uint8Array(data.subarray(1));
          if (data[0] === 2) callbacks.onStderr?.(payload);
          else callbacks.onStdout?.(payload);
          return;
        }
        const msg = JSON.parse(data.toString()) as AttachServerMessage;
        if (msg.type === 'exit') exit = msg.result;
      });
      this.socket.on('close', (code: number) => {
        if (exit) resolve(exit);
        // 1006: the daemon went away without closing (a crash); the process runs on and can be joined again.
        else if (code === 1006) reject(new ConnectionLostError('the connection to Paddock was lost before the process exited'));
        else reject(new PaddockError('detached', 499, 'connection to the process closed before it exited'));
      });
    });
    this.exited.catch(() => {});
    this.opened.catch(() => {});
  }

  static async open(api: ApiClient, call: ApiCall, callbacks: AttachCallbacks): Promise<AttachedProcess> {
    // Loaded on first use: most calls never open a socket, and start-up time matters to the CLI.
    const { default: WebSocketImpl } = await import('ws');
    const attached = new AttachedProcess(WebSocketImpl, api, call, callbacks);
    await attached.opened;
    return attached;
  }

  write(data: string | Uint8Array): void {
    this.socket.send(typeof data === 'string' ? Buffer.from(data) : data, { binary: true });
  }

  resize(cols: number, rows: number): void {
    this.control({ type: 'resize', cols, rows });
  }

  closeStdin(): void {
    this.control({ type: 'eof' });
  }

  signal(signal: Extract<AttachClientMessage, { type: 'signal' }>['signal']): void {
    this.control({ type: 'signal', signal });
  }

  // The socket was opened with the token in its headers: print and serialize nothing of it.
  toJSON(): Record<string, never> {
    return {};
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return 'AttachedProcess {}';
  }

  /** Leaves the process running and closes the connection. */
  disconnect(): void {
    this.socket.close();
  }

  private control(msg: AttachClientMessage): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(JSON.stringify(msg));
  }
}
