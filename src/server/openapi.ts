import { z } from 'zod';
import type { ApiRoute, HeaderDoc } from './route.ts';
import { ErrorSchema } from './schemas.ts';

/**
 * The OpenAPI 3.1 document of the API, generated from the route list and the
 * very zod schemas the routes validate with (OpenAPI 3.1 schemas are JSON
 * Schema 2020-12, which `z.toJSONSchema` writes).
 */

type Json = Record<string, unknown>;

export const API_PREFIX = '/api/v1';

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const out: Json = { ...z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) };
  delete out.$schema;
  return out;
}

/** An object schema's properties as OpenAPI parameters (`in: query|path|header`). */
function parameters(schema: z.ZodType | undefined, where: 'query' | 'path'): Json[] {
  if (!schema) return [];
  const js = jsonSchema(schema, 'input');
  const props = (js.properties ?? {}) as Record<string, Json>;
  const required = new Set((js.required ?? []) as string[]);
  return Object.entries(props).map(([name, s]) => {
    const { description, ...rest } = s;
    const p: Json = { name, in: where, required: where === 'path' || required.has(name), schema: rest };
    if (typeof description === 'string') p.description = description;
    return p;
  });
}

function headerParameter(h: HeaderDoc): Json {
  return {
    name: h.name,
    in: 'header',
    required: h.required,
    description: h.description,
    schema: jsonSchema(h.schema, 'input'),
  };
}

const errorResponse = (description: string): Json => ({
  description,
  content: { 'application/json': { schema: jsonSchema(ErrorSchema, 'output') } },
});

function operation(r: ApiRoute): Json {
  const responses: Json = {};
  responses[String(r.status)] = r.response.schema
    ? {
        description: r.response.description,
        content: {
          [r.response.contentType ?? 'application/json']: { schema: jsonSchema(r.response.schema, 'output') },
        },
      }
    : r.response.contentType
      ? {
          description: r.response.description,
          content: { [r.response.contentType]: { schema: { type: 'string' } } },
        }
      : { description: r.response.description };
  if (r.body || r.query || r.params || r.headers)
    responses['400'] = errorResponse('Malformed input (the field is named)');
  if (r.access !== 'public') {
    responses['401'] = errorResponse(
      r.access === 'enrol' ? 'The enrolment secret is unknown, expired or used up' : 'No valid bearer token',
    );
    if (r.access !== 'enrol')
      responses['403'] = errorResponse(`Needs one of the roles: ${r.access.join(', ')}`);
    responses['429'] = errorResponse('Too many failed authentications from this address (see Retry-After)');
  }
  for (const [status, description] of Object.entries(r.errors ?? {}))
    responses[status] = errorResponse(description);
  responses['500'] = errorResponse('Internal error (no detail is given; the server log has it)');

  const op: Json = {
    operationId: r.operationId,
    summary: r.summary,
    'x-deminer-access': r.access,
    security: Array.isArray(r.access) ? [{ bearer: [] }] : [],
    responses,
  };
  const params = [
    ...parameters(r.params, 'path'),
    ...parameters(r.query, 'query'),
    ...(r.headers ?? []).map(headerParameter),
  ];
  if (params.length > 0) op.parameters = params;
  if (r.body) {
    op.requestBody = {
      required: true,
      content: { 'application/json': { schema: jsonSchema(r.body, 'input') } },
    };
  }
  return op;
}

/** `/findings/:fingerprint` → `/findings/{fingerprint}`. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
}

export function buildOpenApi(routes: readonly ApiRoute[], version: string): Json {
  const paths: Record<string, Json> = {};
  for (const r of routes) {
    const p = openApiPath(r.url);
    paths[p] = { ...(paths[p] ?? {}), [r.method.toLowerCase()]: operation(r) };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'deminer API',
      version,
      description:
        'Findings, hosts, agents and tokens of a deminer server. Errors are { error: { code, message, field? } }.',
    },
    servers: [{ url: API_PREFIX }],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}
