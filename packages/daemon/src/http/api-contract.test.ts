import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type ApiRoute, apiRoutes, Sandbox, Templates, whoami } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFastDaemon, type TestDaemon } from '../testing/fast-daemon.js';

/**
 * Routes in /openapi.json that the SDK does not wrap, each with why. A route
 * added to the daemon lands either in the SDK's route table or here.
 */
const notWrapped: Partial<Record<string, string>> = {
  'POST /v1/sessions': "the dashboard's cookie sign-in, for browsers; SDKs authenticate with the bearer token",
  'GET /v1/sessions/current': "the dashboard's cookie sign-in, for browsers; SDKs authenticate with the bearer token",
  'DELETE /v1/sessions/current': "the dashboard's cookie sign-in, for browsers; SDKs authenticate with the bearer token",
  'GET /v1/sandboxes/{id}/desktop/vnc':
    "the control tower's live view (noVNC in the page); an SDK client gets the VNC WebSocket of its own from desktop.stream()",
};

interface Operation {
  parameters?: { name: string; in: string; schema?: unknown }[];
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
  'x-websocket'?: { clientFrames: { text: unknown }; serverFrames: { text: unknown } };
}

interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown> };
}

const httpMethods = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

let daemon: TestDaemon;
let doc: OpenApiDocument;
let documented: string[];

beforeAll(async () => {
  daemon = await startFastDaemon();
  doc = (await (await fetch(`${daemon.url}/openapi.json`)).json()) as OpenApiDocument;
  documented = Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((m) => httpMethods.includes(m))
      .map((m) => `${m.toUpperCase()} ${path}`),
  );
});

afterAll(async () => {
  await daemon?.stop();
});

/** A path template with every parameter filled by a value that names nothing. */
function filled(path: string): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => (name === 'pid' ? '1' : `contract-${name}`));
}

describe('the SDK and the API cannot drift', () => {
  it('every route the SDK calls is in /openapi.json with the same method and path template', () => {
    const missing = apiRoutes.filter((route) => !documented.includes(route));
    expect(missing).toEqual([]);
  });

  it('every route in /openapi.json is called by the SDK or listed, with a reason, as one it does not wrap', () => {
    const sdk = new Set<string>(apiRoutes);
    const unaccounted = documented.filter((route) => !sdk.has(route) && !notWrapped[route]);
    expect(unaccounted).toEqual([]);
    const stale = Object.keys(notWrapped).filter((route) => !documented.includes(route) || sdk.has(route));
    expect(stale).toEqual([]);
  });

  it('the SDK names a path only as a key of its route table, never as a string of its own', () => {
    const sdkSources = fileURLToPath(new URL('../../../sdk/src/', import.meta.url));
    const stray = readdirSync(sdkSources, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts') && file !== 'api-routes.ts')
      .flatMap((file) =>
        readFileSync(sdkSources + file, 'utf8')
          .split('\n')
          .filter((line) => /\/v1\//.test(line.replace(/'(GET|POST|PUT|PATCH|DELETE) \/v1\/[^']*'/g, '')))
          .map((line) => `${file}: ${line.trim()}`),
      );
    expect(stray).toEqual([]);
  });

  it('every documented route is served: a call of it is answered by its handler, not as an unknown route', async () => {
    const unserved: string[] = [];
    for (const route of documented) {
      const [method = '', path = ''] = route.split(' ');
      // A body that is not JSON: a route that reads one refuses it before acting.
      const body = method === 'GET' ? undefined : '{';
      const res = await daemon.api(filled(path), { method, body, headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(30_000) });
      // An event stream is answered by its handler once it starts; it never ends on its own.
      if (res.headers.get('content-type')?.startsWith('text/event-stream')) {
        await res.body?.cancel();
        continue;
      }
      const text = await res.text();
      if (res.status === 404 && text.includes('"route_not_found"')) unserved.push(route);
    }
    expect(unserved).toEqual([]);
  });

  it('the attach WebSocket is described: a GET asking for Upgrade: websocket, answered 101, its frames given by schema', () => {
    const attach = doc.paths['/v1/sandboxes/{id}/processes/{pid}/attach']?.get;
    expect(attach).toBeDefined();
    expect(attach?.responses['101']).toBeDefined();
    expect(attach?.parameters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'id', in: 'path' }),
        expect.objectContaining({ name: 'pid', in: 'path' }),
        expect.objectContaining({ name: 'upgrade', in: 'header', required: true }),
      ]),
    );
    expect(JSON.stringify(attach?.parameters?.find((p) => p.name === 'upgrade')?.schema)).toContain('"websocket"');
    const frames = attach?.['x-websocket'];
    const types = (schema: unknown) => JSON.stringify(schema).match(/"const":"[a-z]+"/g);
    expect(types(frames?.clientFrames.text)).toEqual(['"const":"resize"', '"const":"eof"', '"const":"signal"']);
    expect(types(frames?.serverFrames.text)).toEqual(['"const":"exit"', '"const":"error"']);
  });
});

describe('what the SDK casts is what the route declares', () => {
  let sbx: Sandbox;
  beforeAll(async () => {
    sbx = await Sandbox.create({ ...daemon.conn, template: 'base' });
  });
  afterAll(async () => {
    await sbx?.kill().catch(() => {});
  });

  /** The names of the route's declared JSON response that the value lacks, and the ones it has that the route does not declare. */
  function mismatch(route: ApiRoute, status: string, value: unknown): { missing: string[]; undeclared: string[] } {
    const [method = '', path = ''] = route.split(' ');
    const schema = resolve(doc.paths[path]?.[method.toLowerCase()]?.responses[status]?.content?.['application/json']?.schema);
    const properties = Object.keys((schema as { properties?: object }).properties ?? {});
    const required = (schema as { required?: string[] }).required ?? [];
    const keys = Object.keys(value as object);
    return { missing: required.filter((k) => !keys.includes(k)), undeclared: keys.filter((k) => !properties.includes(k)) };
  }

  function resolve(schema: unknown): unknown {
    const ref = (schema as { $ref?: string } | undefined)?.$ref;
    return ref ? doc.components.schemas[ref.replace('#/components/schemas/', '')] : schema;
  }

  it('a sandbox, a command result, a process, a file entry, a template and the caller have the fields their routes declare', async () => {
    const result = await sbx.commands.run(['sh', '-c', 'echo hi > /tmp/contract']);
    const handle = await sbx.commands.start(['true']);
    const processes = await sbx.commands.list();
    const entry = await sbx.files.getInfo('/tmp/contract');
    await handle.wait();
    const cases: [ApiRoute, string, unknown][] = [
      ['POST /v1/sandboxes', '201', sbx.lastKnown],
      ['GET /v1/sandboxes/{id}', '200', await sbx.getInfo()],
      ['POST /v1/sandboxes/{id}/exec', '200', result],
      ['GET /v1/sandboxes/{id}/processes/{pid}', '200', processes.find((p) => p.pid === handle.pid)],
      ['GET /v1/sandboxes/{id}/files/stat', '200', entry],
      ['GET /v1/templates/{name}', '200', await Templates.get('base', daemon.conn)],
      ['GET /v1/whoami', '200', await whoami(daemon.conn)],
    ];
    for (const [route, status, value] of cases) expect({ route, ...mismatch(route, status, value) }).toEqual({ route, missing: [], undeclared: [] });
  });
});
