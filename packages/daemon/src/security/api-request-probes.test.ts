import { NotFoundError, Sandbox, SandboxNotFoundError } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startFastDaemon, type TestDaemon } from '../testing/fast-daemon.js';
import { probeTiers } from './probe-kit.js';

// Section D of docs/security-probes.md: attacks through the API refused before
// any sandbox is involved (token, origin, malformed and oversized bodies), and
// ids of sandboxes that ended or never were (D8). They
// test the daemon's own HTTP layer, so they run in the fast tier; the probes
// that touch a sandbox are in api-probes.test.ts.
let daemon: TestDaemon;

beforeAll(async () => {
  daemon = await startFastDaemon(['--max-upload-bytes', String(8 * 1024 * 1024)]);
});

afterAll(async () => {
  await daemon?.stop();
});

const json = (body: unknown) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

describe('API probes before any sandbox', () => {
  it('requires the bearer token (D1)', async () => {
    const none = await fetch(`${daemon.url}/v1/sandboxes`);
    expect(none.status).toBe(401);
    expect(await none.json()).toEqual({ error: { code: 'unauthorized', message: 'missing or invalid token', details: {} } });
    const wrong = await daemon.api('/v1/sandboxes', {
      headers: { authorization: `Bearer ${daemon.token.slice(0, -1)}${daemon.token.endsWith('x') ? 'y' : 'x'}` },
    });
    expect(wrong.status).toBe(401);
    const ok = await daemon.api('/v1/sandboxes');
    expect(ok.status).toBe(200);
    // Refused attempts are audited (rate-limited), never with the token presented.
    const audit = (await (await daemon.api('/v1/audit?limit=10000')).json()) as { records: Array<{ action: string; decision: string; details: unknown }> };
    const refused = audit.records.filter((r) => r.action === 'auth.authenticate');
    expect(refused.length).toBeGreaterThanOrEqual(2);
    expect(refused.every((r) => r.decision === 'deny')).toBe(true);
    expect(JSON.stringify(refused)).not.toContain(daemon.token.slice(4, 20));
  });

  it('refuses browser requests from a foreign origin (D9)', async () => {
    const res = await daemon.api('/v1/sandboxes', { headers: { origin: 'https://evil.example' } });
    expect(res.status).toBe(403);
    expect((await res.json()).error.code).toBe('forbidden_origin');
    const own = await daemon.api('/v1/sandboxes', { headers: { origin: daemon.url } });
    expect(own.status).toBe(200);
  });

  it('answers malformed JSON and wrong types with 400 naming the fields (D7)', async () => {
    const bad = await daemon.api('/v1/sandboxes', json('{"template": '));
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.code).toBe('invalid_json');
    const typed = await daemon.api('/v1/sandboxes', json({ template: 42, timeoutMs: 'soon', extra: true }));
    expect(typed.status).toBe(400);
    const body = await typed.json();
    expect(body.error.code).toBe('invalid_request');
    const paths = body.error.details.fields.map((f: { path: string }) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['template', 'timeoutMs']));
  });

  it('refuses oversized JSON bodies with 413 (D6)', async () => {
    const res = await daemon.api('/v1/sandboxes', json({ template: 'base', metadata: { big: 'x'.repeat(5 * 1024 * 1024) } }));
    expect(res.status).toBe(413);
    expect((await res.json()).error.code).toBe('payload_too_large');
  });

  it('refuses an oversized JSON body sent in chunks, with no length declared, with 413 (D6)', async () => {
    const chunked = (text: string) => {
      const bytes = new TextEncoder().encode(text);
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let at = 0; at < bytes.length; at += 4096) controller.enqueue(bytes.subarray(at, at + 4096));
          controller.close();
        },
      });
      return { method: 'POST', headers: { 'content-type': 'application/json' }, body, duplex: 'half' } as RequestInit;
    };
    const big = await daemon.api('/v1/sandboxes', chunked(JSON.stringify({ template: 'base', metadata: { big: 'x'.repeat(5 * 1024 * 1024) } })));
    expect(big.status).toBe(413);
    expect((await big.json()).error.code).toBe('payload_too_large');
    // The connection stays usable, and a chunked body within the limit is read whole.
    const labels = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`note${i}`, String(i).repeat(256).slice(0, 256)]));
    const made = await daemon.api('/v1/sandboxes', chunked(JSON.stringify({ template: 'base', metadata: labels })));
    expect(made.status).toBe(201);
    const info = (await made.json()) as { id: string; metadata: Record<string, string> };
    expect(info.metadata).toEqual(labels);
    await daemon.api(`/v1/sandboxes/${info.id}`, { method: 'DELETE' });
  });

  it('refuses a WebSocket from a foreign origin, even with the token (D9)', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn });
    const proc = await sbx.commands.start(['sleep', '30']);
    const url = `${daemon.url.replace('http', 'ws')}/v1/sandboxes/${sbx.id}/processes/${proc.pid}/attach?access_token=${daemon.token}`;
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(url, { headers: { origin: 'https://evil.example' } });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => {
        ws.close();
        resolve(101);
      });
      ws.on('error', () => {});
    });
    expect(status).toBe(403);
    await sbx.kill();
  });
});

describe.each(probeTiers)('API probes on the %s tier', (tier) => {
  it('keeps a killed id unusable (D8) and answers 404 for unknown ids', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn, tier });
    await sbx.kill();
    await expect(sbx.commands.run(['true'])).rejects.toBeInstanceOf(SandboxNotFoundError);
    await expect(sbx.files.read('/etc/hostname')).rejects.toBeInstanceOf(SandboxNotFoundError);
    await expect(Sandbox.connect(sbx.id, daemon.conn)).rejects.toBeInstanceOf(SandboxNotFoundError);
    await expect(sbx.kill()).rejects.toBeInstanceOf(SandboxNotFoundError);
    await expect(Sandbox.connect('sb-000000000000', daemon.conn)).rejects.toBeInstanceOf(NotFoundError);
    const res = await daemon.api('/v1/sandboxes/not-an-id/exec', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"cmd":["true"]}' });
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe('sandbox_not_found');
  });
});
