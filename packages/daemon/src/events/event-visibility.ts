import type { EventTopic, MetricsSample, StatsSample } from '@paddock/core';
import type { Principal } from '../auth/token-auth.js';
import type { TokenScopeGuard } from '../auth/token-scope-guard.js';
import { toSandboxInfo } from '../store/sandbox-store.js';
import type { LiveEvent } from './event-bus.js';

/** One server-sent event, its data already JSON. */
export interface SseMessage {
  event: string;
  data: string;
}

export interface Viewer {
  principal: Principal;
  /** Topics the principal was allowed when it subscribed. */
  topics: ReadonlySet<EventTopic>;
  scopes: Pick<TokenScopeGuard, 'admitsSandbox'>;
  /** For a stream a dashboard session opened: whether that session still holds (signed out, it ends). */
  stillSignedIn?: () => boolean;
}

const emptyStats = (at: string): StatsSample => ({
  at,
  sandboxes: { running: 0, paused: 0 },
  execMs: null,
  pool: { hits: 0, misses: 0 },
  decisions: { allow: 0, deny: 0, ask: 0 },
  egressRefused: 0,
});

/**
 * What of an event one subscriber sees, by the rules its requests would meet:
 * sandboxes of its own tenant that its token's scope reaches (as GET
 * /v1/sandboxes lists them), approvals and audit records of its tenant (every
 * tenant's for an admin, as GET /v1/approvals and /v1/audit), statistics of
 * its tenant (the whole daemon's for an admin). undefined: nothing.
 */
export function messageFor(event: LiveEvent, viewer: Viewer): SseMessage | undefined {
  const { principal, topics } = viewer;
  if (!topics.has(event.topic)) return undefined;
  const sees = (s: { id: string; owner: string; metadata: Record<string, string> }) =>
    s.owner === principal.tenant && viewer.scopes.admitsSandbox(principal, s);
  const admin = principal.role === 'admin';
  switch (event.topic) {
    case 'sandbox':
      if (!sees(event.sandbox)) return undefined;
      return { event: 'sandbox', data: JSON.stringify({ kind: event.kind, sandbox: toSandboxInfo(event.sandbox, event.control) }) };
    case 'metrics': {
      const samples: Record<string, MetricsSample> = {};
      for (const s of event.samples) if (sees(s)) samples[s.id] = s.sample;
      return { event: 'metrics', data: JSON.stringify({ samples }) };
    }
    case 'approval':
      if (!admin && event.approval.tenant !== principal.tenant) return undefined;
      return { event: 'approval', data: JSON.stringify({ kind: event.kind, approval: event.approval }) };
    case 'audit':
      if (!admin && event.record.tenant !== principal.tenant) return undefined;
      return { event: 'audit', data: JSON.stringify({ record: event.record }) };
    case 'stats':
      return { event: 'stats', data: JSON.stringify(admin ? event.all : (event.byTenant.get(principal.tenant) ?? emptyStats(event.all.at))) };
  }
}
