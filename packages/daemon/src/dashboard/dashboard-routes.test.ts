import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardRoutes } from '../../../dashboard/src/api/dashboard-routes.js';
import { type FastDaemon, startFastDaemon } from '../testing/fast-daemon.js';

const httpMethods = ['get', 'put', 'post', 'delete', 'patch'];

let daemon: FastDaemon;
let documented: Set<string>;

beforeAll(async () => {
  daemon = await startFastDaemon();
  const doc = (await (await fetch(`${daemon.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
  documented = new Set(
    Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((m) => httpMethods.includes(m))
        .map((m) => `${m.toUpperCase()} ${path}`),
    ),
  );
});

afterAll(async () => {
  await daemon?.stop();
});

describe('the dashboard and the API cannot drift', () => {
  it('every route the dashboard calls is in /openapi.json with the same method and path template', () => {
    expect(dashboardRoutes.filter((route) => !documented.has(route))).toEqual([]);
  });

  it('the dashboard names an API path only as a key of its route table, never as a string of its own', () => {
    const sources = fileURLToPath(new URL('../../../dashboard/src/', import.meta.url));
    const stray = readdirSync(sources, { recursive: true, encoding: 'utf8' })
      .filter((file) => /\.tsx?$/.test(file) && file !== 'api/dashboard-routes.ts')
      .flatMap((file) =>
        readFileSync(sources + file, 'utf8')
          .split('\n')
          // Comments may name a path; code may not.
          .filter((line) => !/^\s*(\/\/|\/\*|\*)/.test(line))
          .filter((line) => /\/v1\//.test(line.replace(/'(GET|POST|PUT|PATCH|DELETE) \/v1\/[^']*'/g, '')))
          .map((line) => `${file}: ${line.trim()}`),
      );
    expect(stray).toEqual([]);
  });
});
