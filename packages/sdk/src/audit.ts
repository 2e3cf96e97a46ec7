import type { AuditEntry, AuditVerification } from '@paddock/core';
import { ApiClient, type ConnectionOptions, type RequestOptions } from './api-client.js';
import { apiCall } from './api-routes.js';

type CallOptions = ConnectionOptions & RequestOptions;

export interface AuditRange {
  /** Only records with a larger seq (what the previous page ended with). */
  after?: number;
  /** ISO time, or a duration back from now: 30s, 15m, 1h, 7d. */
  since?: string;
  /** Only this action (`sandbox.exec`), or those starting with what precedes a final `*` (`sandbox.*`). */
  action?: string;
  decision?: 'allow' | 'ask' | 'deny';
  /** Only this outcome (`ok`, an error code), or `failed` for every outcome but ok. */
  outcome?: string;
  /** Only this principal's records (a token id, `admin`, `anonymous` …). */
  principal?: string;
  /** Only records about this sandbox. */
  sandbox?: string;
  /** Text anywhere in the principal, action, resource, outcome or details, any case. */
  text?: string;
}

export interface AuditListOptions extends CallOptions, AuditRange {
  /** ISO time, or a duration back from now: only records before it. */
  until?: string;
  /** Only records with a smaller seq: the next page when reading newest first. */
  before?: number;
  /** `desc`: newest first (page with `before: last.seq`); oldest first otherwise. */
  order?: 'asc' | 'desc';
  /** At most this many records (the daemon's default otherwise; up to 10 000). */
  limit?: number;
}

/** The filters of a range as the audit route's query. */
function filterQuery(o: AuditRange) {
  return { after: o.after, since: o.since, action: o.action, decision: o.decision, outcome: o.outcome, principal: o.principal, sandbox: o.sandbox, q: o.text };
}

export type AuditFollowOptions = CallOptions & AuditRange;

export interface AuditVerifyOptions extends CallOptions {
  /** Anchor lines to check the chain against too; the newest counts. */
  anchors?: string;
}

/**
 * The tamper-evident audit log: every API call, who made it and how it ended,
 * each record chained to the previous one by its hash.
 *
 *   for await (const r of Audit.follow({ since: '1h', signal })) console.log(r.action)
 */
export const Audit = {
  /** Records in seq order, the filters applied by the daemon; page with `after: last.seq` (or newest first: `order: 'desc'`, `before: last.seq`). */
  async list(options: AuditListOptions = {}): Promise<AuditEntry[]> {
    const query = { ...filterQuery(options), until: options.until, before: options.before, order: options.order, limit: options.limit };
    const spec = { query, timeoutMs: options.timeoutMs, signal: options.signal };
    return (await new ApiClient(options).json<{ records: AuditEntry[] }>(apiCall('GET /v1/audit'), spec)).records;
  },

  /**
   * The matching records, then each new one as it lands, until `signal` aborts,
   * which ends the iteration (no error: that is how a follow is stopped). No
   * timeout unless `timeoutMs` is given: the stream is meant to stay open.
   */
  follow(options: AuditFollowOptions = {}): AsyncGenerator<AuditEntry> {
    const query = { ...filterQuery(options), follow: true };
    return new ApiClient(options).ndjson<AuditEntry>(apiCall('GET /v1/audit'), {
      query,
      timeoutMs: options.timeoutMs ?? 0,
      signal: options.signal,
      endOnAbort: true,
    });
  },

  /**
   * Checks the hash chain against every signed head and the anchor log outside
   * the database (admin tokens only); with `anchors` (JSON lines, e.g. the end
   * of a copy shipped off the box, up to 1 MiB) against those too.
   */
  async verify(options: AuditVerifyOptions = {}): Promise<AuditVerification> {
    const client = new ApiClient(options);
    if (options.anchors === undefined) return client.json<AuditVerification>(apiCall('GET /v1/audit/verify'), options);
    return client.json<AuditVerification>(apiCall('POST /v1/audit/verify'), {
      json: { anchors: options.anchors },
      timeoutMs: options.timeoutMs,
      signal: options.signal,
    });
  },
};
