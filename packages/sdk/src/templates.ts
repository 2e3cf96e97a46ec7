import type { TemplateBuildEvent, TemplateInfo } from '@paddock/core';
import { errorFromEvent, PaddockError } from '@paddock/core/client';
import { ApiClient, type ConnectionOptions, type RequestOptions } from './api-client.js';
import { apiCall } from './api-routes.js';

export interface TemplateBuildOptions extends ConnectionOptions, RequestOptions {
  name: string;
  /** Parent when the file has no FROM (default base). */
  from?: string;
  /** A Paddockfile (FROM, RUN, COPY, ENV, WORKDIR, USER); or give `dockerfile`. */
  paddockfile?: string;
  /** A Dockerfile: stages, ARG, ADD, LABEL, EXPOSE, CMD, ENTRYPOINT …; or give `paddockfile`. */
  dockerfile?: string;
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
  onEvent?: (event: TemplateBuildEvent) => void;
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
    for await (const event of api.ndjson<TemplateBuildEvent>(apiCall('POST /v1/templates'), {
      json,
      signal: options.signal,
      timeoutMs: options.timeoutMs ?? 0,
    })) {
      options.onEvent?.(event);
      if (event.type === 'done') return event.template;
      if (event.type === 'error') throw errorFromEvent(event.error, 400);
    }
    throw new PaddockError('build_interrupted', 502, 'the build stream ended without a result');
  },
};
