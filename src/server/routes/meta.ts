import type { ServerDeps } from '../deps.ts';
import { buildOpenApi } from '../openapi.ts';
import { type ApiRoute, defineRoute } from '../route.ts';
import { HealthSchema } from '../schemas.ts';

/** Health and the API's own description: no token needed. */
export function metaRoutes(deps: ServerDeps, allRoutes: () => readonly ApiRoute[]): ApiRoute[] {
  let doc: unknown;
  return [
    defineRoute({
      method: 'GET',
      url: '/health',
      operationId: 'health',
      summary: 'Liveness, version and storage',
      action: 'health',
      access: 'public',
      status: 200,
      response: { description: 'The server is up', schema: HealthSchema },
      async handler() {
        return {
          status: 'ok',
          version: deps.version,
          store: deps.store.kind,
          uptime_ms: Date.now() - deps.startedAt,
          data_bytes: await deps.store.sizeBytes(),
        };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/openapi.json',
      operationId: 'openapi',
      summary: 'This API as an OpenAPI 3.1 document',
      action: 'openapi',
      access: 'public',
      status: 200,
      response: { description: 'The OpenAPI document', contentType: 'application/json' },
      async handler() {
        doc ??= buildOpenApi(allRoutes(), deps.version);
        return doc;
      },
    }),
  ];
}
