import { Sandbox } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../testing/test-daemon.js';

let daemon: TestDaemon;

beforeAll(async () => {
  daemon = await startTestDaemon();
});

afterAll(async () => {
  await daemon?.stop();
});

const json = (body: unknown) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

describe('HTTP API', () => {
  it('requires the bearer token (D1)', async () => {
    const none = await fetch(`${daemon.url}/v1/sandboxes`);
    expect(none.status).toBe(401);
    expect(await none.json()).toEqual({ error: { code: 'unauthorized', message: 'missing or invalid token', details: {} } });
    const wrong = await daemon.api('/v1/sandboxes', { headers: { authorization: `Bearer ${daemon.token.slice(0, -1)}x` } });
    expect(wrong.status).toBe(401);
    const ok = await daemon.api('/v1/sandboxes');
    expect(ok.status).toBe(200);
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

  it('answers unknown routes with a JSON 404', async () => {
    const res = await daemon.api('/v1/nothing-here');
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe('route_not_found');
  });

  it('publishes an OpenAPI document generated from the schemas', async () => {
    const doc = await (await fetch(`${daemon.url}/openapi.json`)).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/sandboxes', '/v1/sandboxes/{id}', '/v1/sandboxes/{id}/exec', '/v1/sandboxes/{id}/files', '/v1/templates']),
    );
    expect(doc.components.schemas.Sandbox.properties.limits).toBeDefined();
    expect(doc.components.schemas.SandboxCreate.properties.template).toBeDefined();
  });

  it('serves the same API on its unix socket, with the same token rule', async () => {
    const { request } = await import('node:http');
    const get = (headers: Record<string, string>) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request({ socketPath: `${daemon.stateDir}/paddockd.sock`, path: '/v1/sandboxes', headers }, (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
    expect((await get({})).status).toBe(401);
    const ok = await get({ authorization: `Bearer ${daemon.token}` });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toHaveProperty('sandboxes');
    const { statSync } = await import('node:fs');
    expect(statSync(`${daemon.stateDir}/token`).mode & 0o777).toBe(0o600);
    expect(statSync(`${daemon.stateDir}/paddock.db`).mode & 0o777).toBe(0o600);
  });

  it('tags every response with a request id', async () => {
    const res = await daemon.api('/v1/sandboxes');
    expect(res.headers.get('x-request-id')).toMatch(/.{8,}/);
  });

  it('records every action in the append-only audit log', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn });
    await sbx.commands.run(['true']);
    await sbx.commands.run(['no-such-binary']).catch(() => {});
    await sbx.kill();
    const { records } = await (await daemon.api('/v1/audit')).json();
    const mine = records.filter((r: { resource: string }) => r.resource === `sandbox:${sbx.id}`);
    expect(mine.map((r: { action: string; outcome: string }) => `${r.action}:${r.outcome}`)).toEqual([
      'sandbox.exec:ok',
      'sandbox.exec:file_not_found',
      'sandbox.kill:ok',
    ]);
    expect(records.some((r: { action: string; decision: string }) => r.action === 'sandbox.create' && r.decision === 'allow')).toBe(true);
  });
});
