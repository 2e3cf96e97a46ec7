import type { ApprovalInfo, AuditEntry, MetricsSample, SandboxControl, StatsSample } from '@paddock/core';
import type { Logger } from 'pino';
import type { SandboxRecord } from '../store/sandbox-store.js';

/** One sandbox's reading, with what decides who may see it. */
export interface SandboxSample {
  id: string;
  owner: string;
  metadata: Record<string, string>;
  sample: MetricsSample;
}

/**
 * What happened in the daemon, before anyone is told: each subscriber (an
 * events stream) decides what of it its principal may see, by the API's rules.
 */
export type LiveEvent =
  | { topic: 'sandbox'; kind: 'created' | 'updated' | 'ended'; sandbox: SandboxRecord; control: SandboxControl }
  | { topic: 'approval'; kind: 'created' | 'decided'; approval: ApprovalInfo }
  | { topic: 'audit'; record: AuditEntry }
  | { topic: 'metrics'; samples: SandboxSample[] }
  | { topic: 'stats'; byTenant: ReadonlyMap<string, StatsSample>; all: StatsSample };

/**
 * The daemon's one fan-out point for live events, made by createServices and
 * passed to whoever publishes or listens. Delivery is synchronous and must be
 * cheap: a listener queues, it never waits.
 */
export class EventBus {
  private readonly listeners = new Set<(event: LiveEvent) => void>();

  constructor(private readonly logger: Logger) {}

  publish(event: LiveEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        // One broken stream must not keep the event from the others, nor fail whoever published it.
        this.logger.error({ err, topic: event.topic }, 'an events listener failed');
      }
    }
  }

  subscribe(listener: (event: LiveEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Whether anyone listens: a publisher can skip building an event nobody reads. */
  get listening(): boolean {
    return this.listeners.size > 0;
  }
}
