import { createServer, type Server } from 'node:http';
import { Sandbox } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFastDaemon, type TestDaemon } from '../testing/fast-daemon.js';

// OpenTelemetry export, checked with an OTLP/HTTP receiver of our own.
interface OtlpSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes: Array<{ key: string; value: { stringValue?: string; intValue?: string | number } }>;
}

let receiver: Server;
const spans: OtlpSpan[] = [];
const metricNames = new Set<string>();
const anchorLines: string[] = [];
let daemon: TestDaemon;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const json = JSON.parse(body || '{}');
      if (req.url === '/v1/traces') {
        for (const rs of json.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) spans.push(...(ss.spans ?? []));
      } else if (req.url === '/v1/metrics') {
        for (const rm of json.resourceMetrics ?? []) for (const sm of rm.scopeMetrics ?? []) for (const m of sm.metrics ?? []) metricNames.add(m.name);
      } else if (req.url === '/v1/logs') {
        for (const rl of json.resourceLogs ?? [])
          for (const sl of rl.scopeLogs ?? [])
            for (const r of sl.logRecords ?? []) if (r.eventName === 'paddock.audit.anchor') anchorLines.push(r.body.stringValue);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const address = receiver.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  daemon = await startFastDaemon([], {
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
    OTEL_BSP_SCHEDULE_DELAY: '100',
    OTEL_METRIC_EXPORT_INTERVAL: '300',
    OTEL_BLRP_SCHEDULE_DELAY: '100',
    PADDOCK_AUDIT_SIGN_INTERVAL_MS: '100',
  });
});

afterAll(async () => {
  await daemon?.stop();
  receiver?.close();
});

const attr = (s: OtlpSpan | undefined, key: string) => {
  const v = s?.attributes.find((a) => a.key === key)?.value;
  return v?.stringValue ?? (v?.intValue === undefined ? undefined : Number(v.intValue));
};

describe('OpenTelemetry', () => {
  it('traces API requests with the action, decision and outcome as child spans, and exports metrics', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn });
    await sbx.commands.run(['echo', 'traced']);
    await sbx.kill();
    await expect
      .poll(() => spans.map((s) => s.name), { timeout: 10_000 })
      .toEqual(expect.arrayContaining(['POST /v1/sandboxes', 'paddock sandbox.create', 'paddock sandbox.exec', 'paddock sandbox.kill']));
    const http = spans.find((s) => s.name === 'POST /v1/sandboxes');
    const create = spans.find((s) => s.name === 'paddock sandbox.create');
    expect(create?.traceId).toBe(http?.traceId);
    expect(create?.parentSpanId).toBe(http?.spanId);
    expect(attr(http, 'http.response.status_code')).toBe(201);
    const exec = spans.find((s) => s.name === 'paddock sandbox.exec');
    expect(attr(exec, 'paddock.decision')).toBe('allow');
    expect(attr(exec, 'paddock.outcome')).toBe('ok');
    expect(attr(exec, 'paddock.resource')).toBe(`sandbox:${sbx.id}`);
    expect(attr(exec, 'paddock.risk')).toBe(0);
    await expect
      .poll(() => [...metricNames], { timeout: 10_000 })
      .toEqual(expect.arrayContaining(['paddock.policy.decisions', 'paddock.exec.duration', 'paddock.sandboxes']));
  });

  it('marks a refused request as an error with its code', async () => {
    await fetch(`${daemon.url}/v1/sandboxes/sb-000000000000`, { headers: { authorization: `Bearer ${daemon.token}` } });
    await expect
      .poll(() => spans.filter((s) => s.name === 'paddock sandbox.get').map((s) => attr(s, 'paddock.outcome')), { timeout: 10_000 })
      .toContain('sandbox_not_found');
  });

  it('sends each audit anchor as a log record, a copy off the box that verify takes as supplied anchors', async () => {
    await daemon.api('/v1/sandboxes');
    await expect.poll(() => anchorLines.length, { timeout: 10_000 }).toBeGreaterThan(0);
    // What the collector holds now: more keeps coming.
    const shipped = [...anchorLines];
    const res = await daemon.api('/v1/audit/verify', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ anchors: shipped.join('\n') }),
    });
    const verdict = (await res.json()) as { ok: boolean; anchors: Array<{ source: string; checked: number; reached: boolean }> };
    expect(verdict).toMatchObject({ ok: true, anchors: [{ source: 'anchor-log' }, { source: 'supplied', checked: shipped.length, reached: true }] });
  });
});
