import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { Role, TokenRecord } from '../store/types.ts';
import { ApiError, validationError } from './errors.ts';

/**
 * One API route as data: method, path, who may call it, the zod schemas it
 * validates with and the responses it gives. `app.ts` registers these with
 * Fastify and `openapi.ts` documents the same list, so the OpenAPI document
 * and the validation cannot disagree.
 */

/** `public`: no token; `enrol`: no token but rate limited like one; else the roles allowed. */
export type Access = 'public' | 'enrol' | readonly Role[];

export interface HeaderDoc {
  name: string;
  description: string;
  schema: z.ZodType;
  required: boolean;
}

export interface ResponseDoc {
  description: string;
  schema?: z.ZodType;
  /** Default application/json. */
  contentType?: string;
}

/** What the server keeps per request (auth, audit detail), outside Fastify's own objects. */
export interface RequestState {
  route?: ApiRoute;
  auth?: TokenRecord;
  /** Who did it when no token says so (e.g. an enrolment). */
  actor?: string;
  target?: string;
  detail?: Record<string, unknown>;
  error?: { code: string; field?: string; message: string };
  /** Refusals already audited once (a blocked address hammering away). */
  quiet?: boolean;
}

const states = new WeakMap<FastifyRequest, RequestState>();

export function requestState(req: FastifyRequest): RequestState {
  let s = states.get(req);
  if (!s) {
    s = {};
    states.set(req, s);
  }
  return s;
}

export interface RouteContext<B, Q, P> {
  req: FastifyRequest;
  reply: FastifyReply;
  body: B;
  query: Q;
  params: P;
  /** The caller's token; set for every route whose access is a role list. */
  auth: TokenRecord | undefined;
  state: RequestState;
}

export interface RouteSpec<B, Q, P> {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Fastify style, below /api/v1: `/findings/:fingerprint`. */
  url: string;
  operationId: string;
  summary: string;
  /** The audit log's name for it (`findings.ingest`). */
  action: string;
  access: Access;
  body?: z.ZodType<B>;
  query?: z.ZodType<Q>;
  params?: z.ZodType<P>;
  headers?: HeaderDoc[];
  /** The success status. */
  status: number;
  response: ResponseDoc;
  /** Refusals this route gives beyond the common ones (status → description). */
  errors?: Record<number, string>;
  handler(ctx: RouteContext<B, Q, P>): Promise<unknown>;
}

/** A route with its types erased: what the registry and the document need. */
export interface ApiRoute
  extends Omit<RouteSpec<unknown, unknown, unknown>, 'handler' | 'body' | 'query' | 'params'> {
  body?: z.ZodType;
  query?: z.ZodType;
  params?: z.ZodType;
  run(req: FastifyRequest, reply: FastifyReply): Promise<unknown>;
}

/** Parses the request with the route's schemas (400 naming the field), then calls the handler. */
export function defineRoute<B = undefined, Q = undefined, P = undefined>(spec: RouteSpec<B, Q, P>): ApiRoute {
  const { handler, ...meta } = spec;
  return {
    ...meta,
    async run(req, reply) {
      const state = requestState(req);
      const params = parse(spec.params, withoutNul(req.params), undefined);
      const query = parse(spec.query, withoutNul(req.query ?? {}), undefined);
      // A route without a body schema takes no JSON body (an evidence upload reads its raw stream itself).
      const body = spec.body ? parse(spec.body, withoutNul(req.body), undefined) : (undefined as B);
      return handler({ req, reply, body, query, params, auth: state.auth, state });
    },
  };
}

/**
 * NUL characters become U+FFFD in every string and key of the input.
 * PostgreSQL cannot store NUL in text or jsonb, and refusing the finding
 * instead would let an attacker hide a miner behind a process name with a
 * NUL in it; both stores keep the same, visible replacement.
 */
export function withoutNul(value: unknown): unknown {
  // Almost no input has one: look first, copy only then (the copy was most of an ingest's parsing cost).
  return hasNul(value) ? replaceNul(value) : value;
}

/** Deeper JSON than any request of ours needs; deeper input is refused before anything walks it recursively. */
export const MAX_JSON_DEPTH = 64;

/**
 * Whether a NUL is in any string or key. Refuses nesting deeper than
 * MAX_JSON_DEPTH with a 400 before it recurses further, so no input can
 * overflow the stack here or in the walks after it.
 */
function hasNul(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (value === null || typeof value !== 'object') return false;
  if (depth >= MAX_JSON_DEPTH)
    throw new ApiError('DEMINER_BAD_JSON', `nested deeper than ${MAX_JSON_DEPTH} levels`);
  if (Array.isArray(value)) {
    for (const v of value) if (hasNul(v, depth + 1)) return true;
    return false;
  }
  for (const k in value) {
    if (!Object.hasOwn(value, k)) continue;
    if (k.includes('\u0000') || hasNul((value as Record<string, unknown>)[k], depth + 1)) return true;
  }
  return false;
}

function replaceNul(value: unknown): unknown {
  if (typeof value === 'string')
    return value.includes('\u0000') ? value.replaceAll('\u0000', '\uFFFD') : value;
  if (Array.isArray(value)) return value.map(replaceNul);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      // defineProperty: a key named __proto__ stays a plain key (the zod schema refuses it as unknown).
      Object.defineProperty(out, replaceNul(k) as string, {
        value: replaceNul(v),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}

function parse<T>(schema: z.ZodType<T> | undefined, value: unknown, root: string | undefined): T {
  if (!schema) return undefined as T;
  const r = schema.safeParse(value);
  if (!r.success) throw validationError(r.error, root);
  return r.data;
}

/** The caller's token, for handlers of role-checked routes (registration guarantees it). */
export function caller(auth: TokenRecord | undefined): TokenRecord {
  if (!auth) throw new ApiError('DEMINER_UNAUTHORIZED', 'a bearer token is required');
  return auth;
}

/** Who may call what (admin everything; agents and sensors only write). */
export const ROLE_SETS = {
  read: ['admin', 'analyst', 'viewer'],
  acknowledge: ['admin', 'analyst'],
  admin: ['admin'],
  ingest: ['admin', 'agent', 'sensor'],
  agent: ['agent'],
  /** What every member of the fleet may read to protect itself (the learned pools). */
  fleet: ['admin', 'analyst', 'viewer', 'agent', 'sensor'],
} as const satisfies Record<string, readonly Role[]>;
