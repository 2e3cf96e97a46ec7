/**
 * Every route the dashboard calls, spelt as the daemon's /openapi.json spells
 * it (method, then path template). Calls are built from these keys only, so a
 * path not listed here does not compile; a fast-tier test
 * (packages/daemon/src/dashboard/dashboard-routes.test.ts) holds this list to
 * /openapi.json. No DOM here: that test imports it under Node.
 */
export const dashboardRoutes = [
  'POST /v1/sessions',
  'GET /v1/sessions/current',
  'DELETE /v1/sessions/current',
  'GET /v1/whoami',
  'GET /v1/stats',
  'GET /v1/sandboxes',
  'GET /v1/sandboxes/{id}',
  'DELETE /v1/sandboxes/{id}',
  'POST /v1/sandboxes/{id}/timeout',
  'POST /v1/sandboxes/{id}/pause',
  'POST /v1/sandboxes/{id}/resume',
  'POST /v1/sandboxes/{id}/snapshots',
  'POST /v1/sandboxes/{id}/fork',
  'POST /v1/sandboxes/{id}/checkpoints',
  'GET /v1/sandboxes/{id}/checkpoints',
  'POST /v1/sandboxes/{id}/rollback',
  'GET /v1/sandboxes/{id}/metrics',
  'GET /v1/sandboxes/{id}/network',
  'GET /v1/sandboxes/{id}/ports',
  'GET /v1/sandboxes/{id}/desktop/vnc',
  'GET /v1/sandboxes/{id}/processes',
  'GET /v1/sandboxes/{id}/processes/{pid}/output',
  'GET /v1/sandboxes/{id}/processes/{pid}/attach',
  'GET /v1/sandboxes/{id}/files',
  'PUT /v1/sandboxes/{id}/files',
  'GET /v1/sandboxes/{id}/files/list',
  'POST /v1/sandboxes/{id}/takeover',
  'POST /v1/sandboxes/{id}/handback',
  'GET /v1/sandboxes/{id}/recordings',
  'GET /v1/sandboxes/{id}/recordings/{sessionId}',
  'GET /v1/sandboxes/{id}/recordings/{sessionId}/frames',
  'GET /v1/sandboxes/{id}/recordings/{sessionId}/frames/{index}',
  'GET /v1/approvals',
  'POST /v1/approvals/{id}/approve',
  'POST /v1/approvals/{id}/deny',
  'GET /v1/audit',
  'POST /v1/audit/verify',
  'GET /v1/policies',
  'POST /v1/policies/test',
  'GET /v1/templates',
  'GET /v1/pools',
  'GET /v1/volumes',
  'GET /v1/gateway/servers',
  'GET /v1/tenants',
  'GET /v1/tokens',
  'DELETE /v1/tokens/{id}',
  'GET /v1/events',
] as const;

export type DashboardRoute = (typeof dashboardRoutes)[number];

type ParamNames<T extends string> = T extends `${string}{${infer Name}}${infer Rest}` ? Name | ParamNames<Rest> : never;
type RouteParams<R extends DashboardRoute> = [ParamNames<R>] extends [never] ? [] : [params: Record<ParamNames<R>, string | number>];

/** One call of a route: its method and path, the parameters filled in (each URL-encoded). */
export interface RouteCall {
  readonly route: DashboardRoute;
  readonly method: string;
  readonly path: string;
}

export function call<R extends DashboardRoute>(route: R, ...args: RouteParams<R>): RouteCall {
  const space = route.indexOf(' ');
  const values = ((args as unknown[])[0] ?? {}) as Record<string, string | number>;
  const path = route.slice(space + 1).replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(String(values[name])));
  return { route, method: route.slice(0, space), path };
}
