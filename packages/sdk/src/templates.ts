import type { TemplateBuildEvent, TemplateInfo } from '@paddock/core';
import { errorFromEvent, PaddockError } from '@paddock/core/client';
import { ApiClient, type ConnectionOptions, type RequestOptions } from './api-client.js';
import { apiCall } from './api-routes.js';
import type { TransportRequest } from './transport.js';

export interface TemplateBuildOptions extends ConnectionOptions, RequestOptions {
  name: string;
  /** Parent when the file has no FROM (default base). */
  from?: string;
  /** A Paddockfile (FROM, RUN, COPY, ENV, WORKDIR, USER); or give `dockerfile`, or `fromImage`. */
  paddockfile?: string;
  /** A Dockerfile: stages, ARG, ADD, LABEL, EXPOSE, CMD, ENTRYPOINT …; or give `paddockfile`. */
  dockerfile?: string;
  /**
   * Instead of a Dockerfile or Paddockfile: an OCI image reference
   * (registry/name:tag or …@sha256:…) the daemon pulls, for linux/amd64; the
   * template's layers are the image's, with its Env, WorkingDir and User.
   */
  fromImage?: string;
  /** Tar of the build context, for COPY and ADD; its .dockerignore is applied. */
  context?: Uint8Array;
  /** Values of ARGs. */
  buildArgs?: Record<string, string>;
  /** Hosts RUN and ADD may reach through the egress proxy, besides the operator's build defaults. */
  allow?: string[];
  /** Secrets RUN steps get as placeholders (never their values). */
  secrets?: string[];
  /** Run every step, reusing no cached layer. */
  noCache?: boolean;
  /** Every event of the build: its steps, their output, the end. */
  onEvent?: (event: TemplateBuildEvent) => void;
  /** Each step (or image layer) as it starts: `Step 3/9: RUN pip install … (cached)` in numbers, for a progress bar. */
  onProgress?: (progress: TemplateProgress) => void;
}

/** Where a build or import stands: step `index` of `total`, and whether it came from the cache. */
export interface TemplateProgress {
  index: number;
  total: number;
  text: string;
  cached: boolean;
}

export const Templates = {
  async list(options: ConnectionOptions & RequestOptions = {}): Promise<TemplateInfo[]> {
    return (await new ApiClient(options).json<{ templates: TemplateInfo[] }>(apiCall('GET /v1/templates'), options)).templates;
  },

  async get(name: string, options: ConnectionOptions & RequestOptions = {}): Promise<TemplateInfo> {
    return new ApiClient(options).json<TemplateInfo>(apiCall('GET /v1/templates/{name}', { name }), options);
  },

  async remove(name: string, options: ConnectionOptions & RequestOptions = {}): Promise<void> {
    await new ApiClient(options).json(apiCall('DELETE /v1/templates/{name}', { name }), options);
  },

  /** Builds a template, reporting each step and log line through onEvent. */
  async build(options: TemplateBuildOptions): Promise<TemplateInfo> {
    const api = new ApiClient(options);
    if (options.fromImage !== undefined) {
      const events = api.ndjson<TemplateBuildEvent>(apiCall('POST /v1/templates/pull'), {
        json: { name: options.name, image: options.fromImage },
        signal: options.signal,
        timeoutMs: options.timeoutMs ?? 0,
      });
      return untilDone(events, options);
    }
    const json = {
      name: options.name,
      from: options.from,
      paddockfile: options.paddockfile,
      dockerfile: options.dockerfile,
      context: options.context ? Buffer.from(options.context).toString('base64') : undefined,
      buildArgs: options.buildArgs,
      allow: options.allow,
      secrets: options.secrets,
      noCache: options.noCache,
    };
    const events = api.ndjson<TemplateBuildEvent>(apiCall('POST /v1/templates'), { json, signal: options.signal, timeoutMs: options.timeoutMs ?? 0 });
    return untilDone(events, options);
  },

  /**
   * Makes a template ready: one the daemon carries (code-interpreter,
   * desktop) is built now if it is not yet, its steps reported as a build's
   * (a sandbox asking for it would wait for the same build, silently).
   */
  async prepare(name: string, options: ConnectionOptions & RequestOptions & Pick<TemplateBuildOptions, 'onEvent' | 'onProgress'> = {}): Promise<TemplateInfo> {
    const events = new ApiClient(options).ndjson<TemplateBuildEvent>(apiCall('POST /v1/templates/{name}/prepare', { name }), {
      signal: options.signal,
      timeoutMs: options.timeoutMs ?? 0,
    });
    return untilDone(events, options);
  },

  /** Makes a template from a `docker save` or OCI layout archive, uploaded as a stream. */
  async import(options: TemplateImportOptions): Promise<TemplateInfo> {
    const api = new ApiClient(options);
    const events = api.ndjson<TemplateBuildEvent>(apiCall('POST /v1/templates/import'), {
      query: { name: options.name },
      body: options.archive as TransportRequest['body'],
      headers: { 'content-type': 'application/x-tar' },
      signal: options.signal,
      timeoutMs: options.timeoutMs ?? 0,
    });
    return untilDone(events, options);
  },
};

export interface TemplateImportOptions extends ConnectionOptions, RequestOptions {
  name: string;
  /** The archive's bytes, or a stream of them (a large archive need not be held in memory). */
  archive: Uint8Array | ReadableStream<Uint8Array>;
  onEvent?: (event: TemplateBuildEvent) => void;
  /** Each layer as it starts, for a progress bar. */
  onProgress?: (progress: TemplateProgress) => void;
}

async function untilDone(events: AsyncIterable<TemplateBuildEvent>, listeners: Pick<TemplateBuildOptions, 'onEvent' | 'onProgress'>): Promise<TemplateInfo> {
  for await (const event of events) {
    listeners.onEvent?.(event);
    if (event.type === 'step') listeners.onProgress?.({ index: event.index, total: event.total, text: event.text, cached: event.cached === true });
    if (event.type === 'done') return event.template;
    if (event.type === 'error') throw errorFromEvent(event.error, 400);
  }
  throw new PaddockError('build_interrupted', 502, 'the build stream ended without a result');
}
