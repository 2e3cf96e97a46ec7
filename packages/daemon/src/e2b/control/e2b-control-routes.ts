import type { OpenAPIHono } from '@hono/zod-openapi';
import { BadRequestError, ConflictError, PaddockError, SandboxCreateSchema, SandboxIdSchema, SandboxNotFoundError } from '@paddock/core';
import type { Context } from 'hono';
import type { HttpEnv } from '../../http/http-env.js';
import { governedCreate } from '../../http/routes/sandbox-routes.js';
import type { Services } from '../../http/services.js';
import type { SandboxRecord } from '../../store/sandbox-store.js';
import { AccessTokens } from './access-tokens.js';
import {
  E2bConnectSchema,
  E2bForkSchema,
  E2bNetworkUpdateSchema,
  E2bNewSandboxSchema,
  E2bPauseSchema,
  E2bRefreshSchema,
  E2bResumeSchema,
  E2bSnapshotSchema,
  E2bTimeoutSchema,
  networkOf,
  secondsToMs,
  templateOf,
  toE2bDetail,
  toE2bListed,
  toE2bMetric,
  toE2bSandbox,
  toSandboxCreate,
} from './e2b-wire.js';
import { pageOf, readListQuery } from './sandbox-pages.js';

export interface E2bControlOptions {
  /** E2B template names (Sandbox.create('base')) and the Paddock templates they stand for. */
  templates: Readonly<Record<string, string>>;
  /** The domain the SDKs build sandbox hosts under (<port>-<id>.<domain>); null leaves them theirs (E2B_DOMAIN). */
  sandboxDomain: () => string | null;
  /** Each envd access token handed out, with its sandbox (the SDKs sign file URLs with it). */
  handedOut?: (sandboxId: string, token: string) => void;
}

/** Where E2B's control plane answers: E2B_API_URL=http://<daemon>/e2b. */
export const e2bBase = '/e2b';

/** E2B's default sandbox lifetime when a connect names none (seconds). */
const defaultConnectSeconds = 300;

/**
 * E2B's control plane, as its JS and Python SDKs call it, on Paddock's
 * services: each call is the native API's action (same decision, approval
 * and audit record), its answer in E2B's shapes. Authentication (X-API-Key)
 * and E2B's error bodies are the app's, under /e2b.
 */
export function mountE2bControl(app: OpenAPIHono<HttpEnv>, s: Services, options: E2bControlOptions): void {
  const routes = new E2bRoutes(s, options);
  app.post(`${e2bBase}/v2/sandboxes`, (c) => routes.create(c));
  app.post(`${e2bBase}/sandboxes`, (c) => routes.create(c));
  app.get(`${e2bBase}/v2/sandboxes`, (c) => routes.list(c, false));
  app.get(`${e2bBase}/sandboxes`, (c) => routes.list(c, true));
  app.get(`${e2bBase}/sandboxes/:id`, (c) => routes.get(c));
  app.delete(`${e2bBase}/sandboxes/:id`, (c) => routes.kill(c));
  app.post(`${e2bBase}/v2/sandboxes/:id/connect`, (c) => routes.connect(c));
  app.post(`${e2bBase}/sandboxes/:id/connect`, (c) => routes.connect(c));
  app.post(`${e2bBase}/sandboxes/:id/resume`, (c) => routes.resume(c));
  app.post(`${e2bBase}/sandboxes/:id/timeout`, (c) => routes.setTimeout(c));
  app.post(`${e2bBase}/sandboxes/:id/refreshes`, (c) => routes.refresh(c));
  app.post(`${e2bBase}/sandboxes/:id/pause`, (c) => routes.pause(c));
  app.get(`${e2bBase}/sandboxes/:id/metrics`, (c) => routes.metrics(c));
  app.put(`${e2bBase}/sandboxes/:id/network`, (c) => routes.updateNetwork(c));
  app.post(`${e2bBase}/sandboxes/:id/fork`, (c) => routes.fork(c));
  app.post(`${e2bBase}/sandboxes/:id/snapshots`, (c) => routes.snapshot(c));
  app.get(`${e2bBase}/snapshots`, (c) => routes.listSnapshots(c));
  app.delete(`${e2bBase}/templates/:name`, (c) => routes.removeTemplate(c));
  app.get(`${e2bBase}/templates/aliases/:alias`, (c) => routes.templateByAlias(c));
}

type Ctx = Context<HttpEnv>;

class E2bRoutes {
  private readonly accessTokens: AccessTokens;

  constructor(
    private readonly s: Services,
    private readonly options: E2bControlOptions,
  ) {
    this.accessTokens = new AccessTokens(s.tenants);
  }

  async create(c: Ctx): Promise<Response> {
    const body = E2bNewSandboxSchema.parse(await jsonBody(c, true));
    const input = SandboxCreateSchema.parse(toSandboxCreate(body, this.options.templates));
    const record = await governedCreate(c, this.s, input);
    return c.json(
      this.connected(c, record, async () => void (await this.s.sandboxes.kill(c.get('principal').tenant, record.id))),
      201,
    );
  }

  async list(c: Ctx, legacy: boolean): Promise<Response> {
    const query = readListQuery(new URL(c.req.url));
    // The legacy list had running sandboxes only, in one page.
    if (legacy) Object.assign(query, { states: ['running'], limit: Number.MAX_SAFE_INTEGER, after: undefined });
    const principal = c.get('principal');
    const state = query.states.length === 1 ? query.states[0] : undefined;
    const records = await this.s.govern(c, { action: 'sandbox.list', resource: 'sandbox:*', context: { state, labels: query.labels } }, async () =>
      this.s.sandboxes.list(principal.tenant, { labels: query.labels }).filter((r) => this.s.scopes.admitsSandbox(principal, r)),
    );
    const wantedTemplate = query.template === undefined ? undefined : templateOf(query.template, this.options.templates);
    const matching = records.filter(
      (r) =>
        (query.states as string[]).includes(r.state) &&
        (query.startedAfter === undefined || r.createdAt >= query.startedAfter) &&
        (wantedTemplate === undefined || r.template === wantedTemplate),
    );
    const { page, nextToken } = pageOf(matching, query);
    if (nextToken) c.header('x-next-token', nextToken);
    const now = Date.now();
    return c.json(
      page.map((r) => toE2bListed(r, this.options.templates, now)),
      200,
    );
  }

  async get(c: Ctx): Promise<Response> {
    const id = sandboxId(c);
    const owner = c.get('principal').tenant;
    const record = await this.s.govern(c, { action: 'sandbox.get', resource: `sandbox:${id}` }, async () => this.s.sandboxes.requireLive(owner, id));
    const network = this.s.sandboxes.networkRequestOf(id).network;
    return c.json(
      toE2bDetail(record, {
        aliases: this.options.templates,
        domain: this.options.sandboxDomain(),
        now: Date.now(),
        ...(network ? { network: { mode: network.mode ?? 'proxy', allow: network.allow ?? [], deny: network.deny ?? [] } } : {}),
      }),
      200,
    );
  }

  async kill(c: Ctx): Promise<Response> {
    const id = sandboxId(c);
    const owner = c.get('principal').tenant;
    await this.s.govern(c, { action: 'sandbox.kill', resource: `sandbox:${id}` }, () => this.s.sandboxes.kill(owner, id));
    return c.body(null, 204);
  }

  /** Connect: the sandbox's access details; a paused one is resumed first; its lifetime is only ever extended. */
  async connect(c: Ctx): Promise<Response> {
    const id = sandboxId(c);
    const body = E2bConnectSchema.parse(await jsonBody(c, false));
    let record = await this.live(c, id);
    const resumed = record.state === 'paused';
    if (resumed) {
      if (body.memory === false)
        throw new BadRequestError('memory: false is not supported by Paddock: a paused sandbox resumes as it was', { field: 'memory' }, 'unsupported_option');
      record = await this.resumed(c, id);
    }
    record = await this.extended(c, record, secondsToMs(body.timeout ?? defaultConnectSeconds));
    return c.json(this.connected(c, record), resumed ? 201 : 200);
  }

  /** The older resume: a paused sandbox only (409 for a running one), with a new lifetime. */
  async resume(c: Ctx): Promise<Response> {
    const id = sandboxId(c);
    const body = E2bResumeSchema.parse(await jsonBody(c, false));
    const record = await this.live(c, id);
    if (record.state !== 'paused') throw new ConflictError(`sandbox ${id} is already running`, { id }, 'sandbox_running');
    if (body.memory === false)
      throw new BadRequestError('memory: false is not supported by Paddock: a paused sandbox resumes as it was', { field: 'memory' }, 'unsupported_option');
    let resumed = await this.resumed(c, id);
    if (body.timeout !== undefined) resumed = await this.timedOut(c, resumed.id, secondsToMs(body.timeout));
    return c.json(this.connected(c, resumed), 201);
  }

  async setTimeout(c: Ctx): Promise<Response> {
    const id = sandboxId(c);
    const { timeout } = E2bTimeoutSchema.parse(await jsonBody(c, true));
    await this.timedOut(c, id, secondsToMs(timeout));
    return c.body(null, 204);
  }

  /** The older keep-alive: the sandbox lives this long from now. */
  async refresh(c: Ctx): Promise<Response> {
    const id = sandboxId(c);
    const { duration } = E2bRefreshSchema.parse(await jsonBody(c, false));
    await this.timedOut(c, id, secondsToMs(duration ?? defaultConnectSeconds));
    return c.body(null, 204);
  }

  /** 409 for a sandbox paused already, as E2B answers (the SDKs return false). */
  async pause(c: Ctx): Promise<Response> {
    const id = sandboxId(c);
    const body = E2bPauseSchema.parse(await jsonBody(c, false));
    if (body.memory === false)
      throw new BadRequestError('memory: false is not supported by Paddock: a pause keeps memory', { field: 'memory' }, 'unsupported_option');
    const owner = c.get('principal').tenant;
    await this.s.govern(
      c,
      {
        action: 'sandbox.pause',
        resource: `sandbox:${id}`,
        precheck: () => {
          if (this.s.sandboxes.requireLive(owner, id).state === 'paused') throw new ConflictError(`sandbox ${id} is already paused`, { id }, 'sandbox_paused');
        },
      },
      // A copy or rollback under way is waited for: an E2B client would read a 409 as "already paused".
      () => this.s.sandboxes.pause(owner, id, { waitIfBusy: true }),
    );
    return c.body(null, 204);
  }

  async metrics(c: Ctx): Promise<Response> {
    const id = sandboxId(c);
    const owner = c.get('principal').tenant;
    const url = new URL(c.req.url);
    const start = seconds(url.searchParams.get('start'), 'start');
    const end = seconds(url.searchParams.get('end'), 'end');
    const { record, readings } = await this.s.govern(c, { action: 'sandbox.get', resource: `sandbox:${id}`, context: { metrics: true } }, async () => ({
      record: this.s.sandboxes.requireLive(owner, id),
      readings: this.s.metrics.metrics(id).history,
    }));
    const disk = { used: 0, total: record.limits.diskMiB * 1024 * 1024 };
    const inRange = readings.filter((r) => {
      const at = Date.parse(r.at) / 1000;
      return (start === undefined || at >= start) && (end === undefined || at <= end);
    });
    return c.json(
      inRange.map((r) => toE2bMetric(r, record, disk)),
      200,
    );
  }

  /**
   * E2B replaces a sandbox's egress rules; Paddock's update adds to its lists.
   * The hosts allowed before and not now are denied, so what gets through is
   * what was asked.
   */
  async updateNetwork(c: Ctx): Promise<Response> {
    const id = sandboxId(c);
    const body = E2bNetworkUpdateSchema.parse(await jsonBody(c, true));
    const wanted = networkOf(body, body.allow_internet_access);
    if (wanted?.mode === 'none') {
      throw new BadRequestError(
        "cutting a running sandbox's network off is not supported by Paddock: deny its hosts instead, or create it without internet access",
        { field: 'allow_internet_access' },
        'unsupported_option',
      );
    }
    const owner = c.get('principal').tenant;
    const current = this.s.sandboxes.networkRequestOf(id).network;
    const allow = [...(wanted?.allow ?? [])];
    const deny = [...(wanted?.deny ?? []), ...(current?.allow ?? []).filter((h) => !allow.includes(h))];
    if (allow.length + deny.length > 0) {
      await this.s.govern(
        c,
        {
          action: 'sandbox.network.update',
          resource: `sandbox:${id}`,
          context: { hosts: allow, denied: deny },
          precheck: () => this.s.sandboxes.requireLive(owner, id),
        },
        async () => this.s.network.update(id, { ...(allow.length ? { allow } : {}), ...(deny.length ? { deny } : {}) }),
      );
    }
    return c.body(null, 204);
  }

  /** Each fork its own decision and record, as Paddock's fork; E2B's answer lists a sandbox or an error per fork. */
  async fork(c: Ctx): Promise<Response> {
    const id = sandboxId(c);
    const body = E2bForkSchema.parse(await jsonBody(c, false));
    const owner = c.get('principal').tenant;
    const results: unknown[] = [];
    for (let i = 0; i < (body.count ?? 1); i++) {
      try {
        const record = await this.s.govern(
          c,
          { action: 'sandbox.fork', resource: `sandbox:${id}`, precheck: () => this.s.sandboxes.requireLive(owner, id) },
          () =>
            this.s.snapshots.fork(owner, id, body.timeout === undefined ? {} : { timeoutMs: secondsToMs(body.timeout) }, {
              signal: c.get('signal'),
              createdBy: c.get('principal').owner,
            }),
        );
        results.push({ sandbox: this.connected(c, record, async () => void (await this.s.sandboxes.kill(owner, record.id))) });
      } catch (err) {
        // The sandbox itself unknown is the whole call's 404; anything else is this fork's.
        if (i === 0 && err instanceof SandboxNotFoundError) throw err;
        const { status, message } = errorOf(err);
        results.push({ error: { code: status, message } });
      }
    }
    return c.json(results, 200);
  }

  async snapshot(c: Ctx): Promise<Response> {
    const id = sandboxId(c);
    const body = E2bSnapshotSchema.parse(await jsonBody(c, false));
    const owner = c.get('principal').tenant;
    const name = body.name ?? `snapshot-${id.slice(3)}-${Date.now().toString(36)}`;
    const template = await this.s.govern(
      c,
      { action: 'sandbox.snapshot', resource: `sandbox:${id}`, context: { template: name }, precheck: () => this.s.sandboxes.requireLive(owner, id) },
      () => this.s.snapshots.snapshot(owner, id, { name }, c.get('signal')),
    );
    return c.json({ snapshotID: template.name, names: [template.name] }, 201);
  }

  /** The tenant's snapshots (templates of kind snapshot), by name, a page at a time. */
  async listSnapshots(c: Ctx): Promise<Response> {
    const url = new URL(c.req.url);
    if (url.searchParams.get('sandboxID')) {
      throw new BadRequestError(
        'sandboxID is not supported by Paddock: a snapshot does not record the sandbox it was taken of; list them all or by name',
        { field: 'sandboxID' },
        'unsupported_option',
      );
    }
    const name = url.searchParams.get('name') || undefined;
    const limit = pageLimit(url.searchParams.get('limit'));
    const after = url.searchParams.get('nextToken') ? Buffer.from(url.searchParams.get('nextToken') as string, 'base64url').toString('utf8') : undefined;
    const tenant = c.get('principal').tenant;
    const templates = await this.s.govern(c, { action: 'template.list', resource: 'template:*' }, async () => this.s.templates.list(tenant));
    const snapshots = templates
      .filter((t) => t.kind === 'snapshot' && (name === undefined || t.name === name) && (after === undefined || t.name > after))
      .map((t) => t.name)
      .sort();
    const page = snapshots.slice(0, limit);
    const last = page.at(-1);
    if (snapshots.length > page.length && last) c.header('x-next-token', Buffer.from(last).toString('base64url'));
    return c.json(
      page.map((n) => ({ snapshotID: n, names: [n] })),
      200,
    );
  }

  /** E2B deletes a snapshot as a template. */
  async removeTemplate(c: Ctx): Promise<Response> {
    const name = c.req.param('name') ?? '';
    const principal = c.get('principal');
    await this.s.govern(c, { action: 'template.remove', resource: `template:${name}` }, () =>
      this.s.templates.remove(name, { tenant: principal.tenant, admin: principal.role === 'admin' }),
    );
    return c.body(null, 204);
  }

  /** Template.exists(name): the template an E2B name stands for, if the caller can use it. */
  async templateByAlias(c: Ctx): Promise<Response> {
    const alias = c.req.param('alias') ?? '';
    const name = templateOf(alias, this.options.templates);
    const template = await this.s.govern(c, { action: 'template.get', resource: `template:${name}` }, async () =>
      this.s.templates.get(name, c.get('principal').tenant),
    );
    return c.json({ templateID: template.name, public: template.kind === 'base' }, 200);
  }

  /** A live sandbox of the caller's (a sandbox.get decision); an ended one is not found, as E2B has it. */
  private live(c: Ctx, id: string): Promise<SandboxRecord> {
    const owner = c.get('principal').tenant;
    return this.s.govern(c, { action: 'sandbox.get', resource: `sandbox:${id}` }, async () => this.s.sandboxes.requireLive(owner, id));
  }

  private resumed(c: Ctx, id: string): Promise<SandboxRecord> {
    const owner = c.get('principal').tenant;
    return this.s.govern(c, { action: 'sandbox.resume', resource: `sandbox:${id}` }, () => this.s.sandboxes.resume(owner, id));
  }

  private timedOut(c: Ctx, id: string, timeoutMs: number): Promise<SandboxRecord> {
    const owner = c.get('principal').tenant;
    return this.s.govern(c, { action: 'sandbox.timeout', resource: `sandbox:${id}`, context: { timeoutMs } }, async () =>
      this.s.sandboxes.setTimeout(owner, id, timeoutMs),
    );
  }

  /** A connect never shortens a sandbox's life. */
  private async extended(c: Ctx, record: SandboxRecord, timeoutMs: number): Promise<SandboxRecord> {
    const current = record.expiresAt ? Date.parse(record.expiresAt) : Number.POSITIVE_INFINITY;
    if (Date.now() + timeoutMs <= current) return record;
    return this.timedOut(c, record.id, timeoutMs);
  }

  /**
   * The sandbox's access details with the caller's envd access token: a
   * narrower copy of its token for this sandbox alone, revoked when it ends.
   * Should it fail, `undo` removes what the call made.
   */
  private connected(c: Ctx, record: SandboxRecord, undo?: () => Promise<void>) {
    let token: string;
    try {
      token = this.accessTokens.for(c.get('principal'), record.id);
    } catch (err) {
      undo?.().catch((cleanup) => c.get('logger')?.warn({ err: cleanup, sandbox: record.id }, 'removing a sandbox without an access token failed'));
      throw err;
    }
    this.options.handedOut?.(record.id, token);
    return toE2bSandbox(record, { aliases: this.options.templates, accessToken: token, domain: this.options.sandboxDomain() });
  }
}

function sandboxId(c: Ctx): string {
  const id = c.req.param('id') ?? '';
  // Not a Paddock id: no such sandbox (E2B answers 404, not 400, for an id it never gave out).
  if (!SandboxIdSchema.safeParse(id).success) throw new SandboxNotFoundError(id);
  return id;
}

/** The request's JSON body; an empty body is `{}` where the SDKs may send none. */
async function jsonBody(c: Ctx, required: boolean): Promise<unknown> {
  // Only a body declared JSON is held to the API's size limit (the app's body limit): no other is read at all.
  if (!/^application\/json\b/i.test(c.req.header('content-type') ?? '')) {
    if (hasBody(c)) throw new BadRequestError('a request body must be JSON (content-type: application/json)', {}, 'invalid_json');
    if (required) throw new BadRequestError('a JSON body is required', {}, 'invalid_json');
    return {};
  }
  const text = await c.req.text();
  if (!text.trim()) {
    if (required) throw new BadRequestError('a JSON body is required', {}, 'invalid_json');
    return {};
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new BadRequestError('request body is not valid JSON', {}, 'invalid_json');
  }
}

function hasBody(c: Ctx): boolean {
  const length = c.req.header('content-length');
  return (length !== undefined && length !== '0') || c.req.header('transfer-encoding') !== undefined;
}

function pageLimit(text: string | null): number {
  if (text === null || text === '') return 100;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new BadRequestError('limit must be a whole number from 1 to 100', { field: 'limit' });
  return n;
}

function seconds(text: string | null, field: string): number | undefined {
  if (text === null || text === '') return undefined;
  const n = Number(text);
  if (!Number.isFinite(n)) throw new BadRequestError(`${field} must be a Unix time in seconds`, { field });
  return n;
}

function errorOf(err: unknown): { status: number; message: string } {
  if (err instanceof PaddockError) return { status: err.status, message: err.message };
  return { status: 500, message: 'the fork failed; the daemon log has details' };
}
