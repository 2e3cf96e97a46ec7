import { Sandbox } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFastDaemon, type TestDaemon } from '../testing/fast-daemon.js';

let daemon: TestDaemon;

beforeAll(async () => {
  daemon = await startFastDaemon();
});

afterAll(async () => {
  await daemon?.stop();
});

const _json = (body: unknown) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

describe('HTTP API', () => {
  it('answers unknown routes with a JSON 404', async () => {
    const res = await daemon.api('/v1/nothing-here');
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe('route_not_found');
  });

  it('publishes an OpenAPI document generated from the schemas', async () => {
    const doc = (await (await fetch(`${daemon.url}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
      components: { schemas: Record<string, { properties: Record<string, unknown> }> };
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/sandboxes', '/v1/sandboxes/{id}', '/v1/sandboxes/{id}/exec', '/v1/sandboxes/{id}/files', '/v1/templates']),
    );
    expect(doc.components.schemas.Sandbox?.properties.limits).toBeDefined();
    expect(doc.components.schemas.SandboxCreate?.properties.template).toBeDefined();
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
