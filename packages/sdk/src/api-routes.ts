/**
 * Every route the SDK calls (and the CLI, through its ApiClient), spelt as the
 * daemon's OpenAPI document spells it: method, then path template. Calls are
 * built from these keys, so a path not listed here does not compile; a test
 * (daemon/src/http/api-contract.test.ts) holds this list to /openapi.json
 * both ways, so a route renamed or added on either side breaks it.
 */
export const apiRoutes = [
  'GET /v1/whoami',
  'POST /v1/sessions/links',
  'GET /v1/events',
  'GET /v1/stats',
  'POST /v1/gc',
  'GET /v1/check',
  'GET /v1/audit',
  'GET /v1/audit/verify',
  'POST /v1/audit/verify',
  'GET /v1/policies',
  'POST /v1/policies/check',
  'POST /v1/policies/test',
  'GET /v1/approvals',
  'GET /v1/approvals/{id}',
  'POST /v1/approvals/{id}/approve',
  'POST /v1/approvals/{id}/deny',
  'POST /v1/approvals/{id}/cancel',
  'POST /v1/tenants',
  'GET /v1/tenants',
  'GET /v1/tenants/{name}',
  'PATCH /v1/tenants/{name}',
  'DELETE /v1/tenants/{name}',
  'POST /v1/tokens',
  'GET /v1/tokens',
  'DELETE /v1/tokens/{id}',
  'PUT /v1/secrets/{name}',
  'GET /v1/secrets',
  'DELETE /v1/secrets/{name}',
  'PUT /v1/registries/{host}',
  'GET /v1/registries',
  'DELETE /v1/registries/{host}',
  'POST /v1/pools',
  'GET /v1/pools',
  'DELETE /v1/pools/{id}',
  'POST /v1/templates',
  'POST /v1/templates/pull',
  'POST /v1/templates/import',
  'POST /v1/templates/{name}/prepare',
  'GET /v1/templates',
  'GET /v1/templates/{name}',
  'DELETE /v1/templates/{name}',
  'POST /v1/sandboxes',
  'GET /v1/sandboxes',
  'DELETE /v1/sandboxes',
  'GET /v1/sandboxes/{id}',
  'DELETE /v1/sandboxes/{id}',
  'POST /v1/sandboxes/{id}/timeout',
  'POST /v1/sandboxes/{id}/takeover',
  'POST /v1/sandboxes/{id}/handback',
  'GET /v1/sandboxes/{id}/recordings',
  'GET /v1/sandboxes/{id}/recordings/{sessionId}',
  'GET /v1/sandboxes/{id}/recordings/{sessionId}/frames',
  'GET /v1/sandboxes/{id}/recordings/{sessionId}/frames/{index}',
  'POST /v1/sandboxes/{id}/pause',
  'POST /v1/sandboxes/{id}/resume',
  'POST /v1/sandboxes/{id}/snapshots',
  'POST /v1/sandboxes/{id}/fork',
  'POST /v1/sandboxes/{id}/checkpoints',
  'GET /v1/sandboxes/{id}/checkpoints',
  'GET /v1/sandboxes/{id}/metrics',
  'POST /v1/sandboxes/{id}/rollback',
  'GET /v1/sandboxes/{id}/network',
  'PATCH /v1/sandboxes/{id}/network',
  'GET /v1/sandboxes/{id}/ports',
  'POST /v1/sandboxes/{id}/port-links',
  'GET /v1/sandboxes/{id}/port-links',
  'DELETE /v1/sandboxes/{id}/port-links/{link}',
  'GET /v1/sandboxes/{id}/port-forward/{port}',
  'GET /v1/sandboxes/{id}/desktop/screenshot',
  'POST /v1/sandboxes/{id}/desktop/actions',
  'GET /v1/sandboxes/{id}/desktop/cursor',
  'GET /v1/sandboxes/{id}/desktop/windows',
  'POST /v1/sandboxes/{id}/desktop/launch',
  'GET /v1/sandboxes/{id}/desktop/clipboard',
  'PUT /v1/sandboxes/{id}/desktop/clipboard',
  'GET /v1/sandboxes/{id}/desktop/stream',
  'POST /v1/sandboxes/{id}/browser/start',
  'POST /v1/sandboxes/{id}/exec',
  'POST /v1/sandboxes/{id}/processes',
  'GET /v1/sandboxes/{id}/processes',
  'GET /v1/sandboxes/{id}/processes/{pid}',
  'GET /v1/sandboxes/{id}/processes/{pid}/wait',
  'GET /v1/sandboxes/{id}/processes/{pid}/output',
  'POST /v1/sandboxes/{id}/processes/{pid}/signal',
  'POST /v1/sandboxes/{id}/processes/{pid}/stdin',
  'GET /v1/sandboxes/{id}/processes/{pid}/attach',
  'POST /v1/sandboxes/{id}/code/contexts',
  'GET /v1/sandboxes/{id}/code/contexts',
  'DELETE /v1/sandboxes/{id}/code/contexts/{contextId}',
  'POST /v1/sandboxes/{id}/code/contexts/{contextId}/restart',
  'POST /v1/sandboxes/{id}/code/contexts/{contextId}/interrupt',
  'POST /v1/sandboxes/{id}/code/run',
  'GET /v1/sandboxes/{id}/files',
  'PUT /v1/sandboxes/{id}/files',
  'DELETE /v1/sandboxes/{id}/files',
  'GET /v1/sandboxes/{id}/files/list',
  'GET /v1/sandboxes/{id}/files/stat',
  'POST /v1/sandboxes/{id}/files/mkdir',
  'POST /v1/sandboxes/{id}/files/rename',
  'GET /v1/sandboxes/{id}/archive',
  'PUT /v1/sandboxes/{id}/archive',
  'POST /v1/volumes',
  'GET /v1/volumes',
  'GET /v1/volumes/{name}',
  'DELETE /v1/volumes/{name}',
  'GET /v1/volumes/{name}/files',
  'PUT /v1/volumes/{name}/files',
  'DELETE /v1/volumes/{name}/files',
  'GET /v1/volumes/{name}/files/list',
  'GET /v1/volumes/{name}/files/stat',
  'POST /v1/volumes/{name}/files/mkdir',
  'GET /v1/volumes/{name}/export',
  'PUT /v1/volumes/{name}/import',
  'POST /v1/gateway/servers',
  'GET /v1/gateway/servers',
  'GET /v1/gateway/servers/{name}',
  'PUT /v1/gateway/servers/{name}',
  'DELETE /v1/gateway/servers/{name}',
  'POST /v1/gateway/servers/{name}/restart',
  'POST /v1/gateway/servers/{name}/pin',
  'GET /v1/gateway/servers/{name}/logs',
  'GET /v1/gateway/tools',
  'POST /v1/gateway/tools/{name}/call',
  'GET /v1/gateway/manifest.schema.json',
  // The CLI's `paddock version`.
  'GET /v1/health',
] as const;

export type ApiRoute = (typeof apiRoutes)[number];

/** The names in a path template: 'GET /v1/sandboxes/{id}/processes/{pid}' → 'id' | 'pid'. */
type ParamNames<T extends string> = T extends `${string}{${infer Name}}${infer Rest}` ? Name | ParamNames<Rest> : never;

type RouteArgs<R extends ApiRoute> = [ParamNames<R>] extends [never] ? [] : [params: Record<ParamNames<R>, string | number>];

/** One request's method and path; the SDK makes its own with apiCall, from a route of the table. */
export interface ApiCall {
  readonly method: string;
  readonly path: string;
}

/** A call of a route, its path parameters filled in (each URL-encoded). */
export function apiCall<R extends ApiRoute>(route: R, ...args: RouteArgs<R>): ApiCall {
  const space = route.indexOf(' ');
  const values = ((args as unknown[])[0] ?? {}) as Record<string, string | number>;
  const path = route.slice(space + 1).replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(String(values[name])));
  return { method: route.slice(0, space), path };
}
