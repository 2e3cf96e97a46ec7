import type { CodeContext, CodeContextCreate, CodeError, CodeLanguage, CodeResult, CodeRunEvent, CodeRunResult } from '@paddock/core';
import { ConnectionLostError } from '@paddock/core/client';
import type { ApiClient, RequestOptions } from './api-client.js';
import { apiCall } from './api-routes.js';
import { type ApprovalOptions, approvalRequestHeaders, approvalWaitMs } from './approval-options.js';

export interface RunCodeOptions extends RequestOptions, ApprovalOptions {
  /** The context to run in (its id or the object); default: the sandbox's default context of the language. */
  context?: CodeContext | string;
  language?: CodeLanguage;
  /** The cell is interrupted after this long (default 5 minutes); the kernel keeps its state. */
  timeoutMs?: number;
  onStdout?: (text: string) => void;
  onStderr?: (text: string) => void;
  onResult?: (result: CodeResult) => void;
  onError?: (error: CodeError) => void;
}

/** What a cell gave: its rich results, its output, its error, and how it ended. */
export type Execution = CodeRunResult;

// A cell's request must outlive the cell, the wait for a human before it, and a kernel starting for it.
const requestSlackMs = 120_000;

/** Code contexts of a sandbox: stateful kernels (Python) that run cells and return rich results. */
export class Code {
  constructor(
    private readonly api: ApiClient,
    private readonly sandboxId: string,
  ) {}

  /**
   * Runs a cell and waits for it. Output and results stream to the callbacks
   * as they come. An exception in the cell is `error` in the answer, not a
   * throw; a timeout interrupts the cell and answers with `timedOut`.
   */
  async run(code: string, options: RunCodeOptions = {}): Promise<Execution> {
    const call = apiCall('POST /v1/sandboxes/{id}/code/run', { id: this.sandboxId });
    const contextId = typeof options.context === 'string' ? options.context : options.context?.id;
    const spec = {
      json: { code, contextId, language: options.language, timeoutMs: options.timeoutMs },
      headers: approvalRequestHeaders(options),
      signal: options.signal,
      timeoutMs: options.timeoutMs ? options.timeoutMs + approvalWaitMs(options) + requestSlackMs : 0,
    };
    if (!options.onStdout && !options.onStderr && !options.onResult && !options.onError) return this.api.json<Execution>(call, spec);
    const results: CodeResult[] = [];
    const stdout: string[] = [];
    const stderr: string[] = [];
    let error: CodeError | null = null;
    let started = '';
    let end: Extract<CodeRunEvent, { type: 'end' }> | undefined;
    for await (const event of this.api.ndjson<CodeRunEvent>(call, spec)) {
      if (event.type === 'start') started = event.contextId;
      else if (event.type === 'stdout') {
        stdout.push(event.text);
        options.onStdout?.(event.text);
      } else if (event.type === 'stderr') {
        stderr.push(event.text);
        options.onStderr?.(event.text);
      } else if (event.type === 'result') {
        results.push(event.result);
        options.onResult?.(event.result);
      } else if (event.type === 'error') {
        error = event.error;
        options.onError?.(event.error);
      } else if (event.type === 'end') end = event;
    }
    if (!end) throw new ConnectionLostError('the connection to Paddock closed before the cell ended');
    const { type: _type, ...ending } = end;
    return { contextId: started, results, logs: { stdout: stdout.join(''), stderr: stderr.join('') }, error, ...ending };
  }

  async createContext(request: CodeContextCreate = {}, options: RequestOptions = {}): Promise<CodeContext> {
    return this.api.json<CodeContext>(apiCall('POST /v1/sandboxes/{id}/code/contexts', { id: this.sandboxId }), {
      ...options,
      json: request,
      timeoutMs: options.timeoutMs ?? requestSlackMs,
    });
  }

  async listContexts(options: RequestOptions = {}): Promise<CodeContext[]> {
    return (await this.api.json<{ contexts: CodeContext[] }>(apiCall('GET /v1/sandboxes/{id}/code/contexts', { id: this.sandboxId }), options)).contexts;
  }

  /** A fresh kernel (its state is lost); brings back a context whose kernel died. */
  async restartContext(context: CodeContext | string, options: RequestOptions = {}): Promise<CodeContext> {
    return this.api.json<CodeContext>(apiCall('POST /v1/sandboxes/{id}/code/contexts/{contextId}/restart', { id: this.sandboxId, contextId: idOf(context) }), {
      ...options,
      timeoutMs: options.timeoutMs ?? requestSlackMs,
    });
  }

  /** Interrupts the running cell; the kernel keeps its state. */
  async interruptContext(context: CodeContext | string, options: RequestOptions = {}): Promise<CodeContext> {
    return this.api.json<CodeContext>(
      apiCall('POST /v1/sandboxes/{id}/code/contexts/{contextId}/interrupt', { id: this.sandboxId, contextId: idOf(context) }),
      options,
    );
  }

  async deleteContext(context: CodeContext | string, options: RequestOptions = {}): Promise<void> {
    await this.api.json(apiCall('DELETE /v1/sandboxes/{id}/code/contexts/{contextId}', { id: this.sandboxId, contextId: idOf(context) }), options);
  }
}

function idOf(context: CodeContext | string): string {
  return typeof context === 'string' ? context : context.id;
}
