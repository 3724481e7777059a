import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { API_ROUTES, accessesOf, pathParameterNames, routePath, routeServedBy } from '#lib/api/routes.ts';

describe('API_ROUTES: the route table of the CDK and the local API server', () => {
  it('names a function folder with a handler for every route, each function but the console serving one', () => {
    for (const route of API_ROUTES) {
      expect(existsSync(new URL(`../../functions/${route.function}/handler.ts`, import.meta.url))).toBe(true);
    }
    const functions = API_ROUTES.map((route) => route.function).filter((fn) => fn !== 'console');
    expect(new Set(functions).size).toBe(functions.length);
  });

  it("serves the console's pages to signed-in people only, each path once per method", () => {
    const console = API_ROUTES.filter((route) => route.function === 'console');
    expect(console.every((route) => accessesOf(route).join() === 'session')).toBe(true);
    expect(
      API_ROUTES.filter((route) => accessesOf(route).includes('session')).map((route) => route.function),
    ).toEqual(console.map(() => 'console'));
    const keys = console.map((route) => `${route.method} ${route.path}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toEqual(
      expect.arrayContaining([
        'GET /',
        'GET /reviews',
        'POST /units/{workflowId}/{unitId}',
        'POST /kill-switch/{flag}',
      ]),
    );
    expect(
      pathParameterNames(
        console.find((route) => route.path === '/reports/{key+}') as (typeof console)[number],
      ),
    ).toEqual(['key']);
  });

  it('leaves only the health check open, and keeps flipping the kill switch to IAM callers', () => {
    expect(API_ROUTES.filter((route) => route.auth === 'open').map((route) => route.path)).toEqual([
      '/healthz',
    ]);
    expect(accessesOf(routeServedBy('kill-switch'))).toEqual(['iam']);
    expect(accessesOf(routeServedBy('ingest'))).toEqual(['token', 'iam']);
  });

  it('mirrors a route for IAM callers under /iam, and names its path parameters', () => {
    const reviews = routeServedBy('reviews');
    expect(routePath(reviews, 'token')).toBe('/v1/workflows/{workflowId}/reviews');
    expect(routePath(reviews, 'iam')).toBe('/iam/v1/workflows/{workflowId}/reviews');
    expect(pathParameterNames(reviews)).toEqual(['workflowId']);
    expect(pathParameterNames(routeServedBy('ingest'))).toEqual([]);
  });
});
