import { UsageError } from '../../../core/errors.ts';
import { type ControllerAuth, expectStatus, httpStep, isRecord, parseJson, send } from '../controller.ts';
import { shown } from '../target.ts';
import {
  type BodyTemplate,
  checkFilled,
  checkPathTemplate,
  parseBodyTemplate,
  pathNames,
  renderBody,
  renderPath,
} from '../template.ts';
import {
  type HttpStep,
  type IsolationBackend,
  type IsolationTarget,
  type RuleCheck,
  withStatus,
} from '../types.ts';

/**
 * Any controller with an HTTP API: one request installs the drop rule, one
 * removes it, one lists the rules so that the change can be read back. The
 * defaults are the playbook's request (see README.md):
 *
 *   POST /api/v1/flow-rules {"match":{"src-ip":"192.168.1.100"},"actions":{"output":"DROP"}}
 */
export const DEFAULT_BODY = '{"match":{"src-ip":"{{ip}}"},"actions":{"output":"DROP"}}';
export const DEFAULT_PATH = '/api/v1/flow-rules';

export interface HttpRequestTemplate {
  method: string;
  path: string;
  body?: BodyTemplate;
}

export interface HttpControllerOptions {
  controller: string;
  auth: ControllerAuth;
  apply: HttpRequestTemplate;
  release: HttpRequestTemplate;
  /** GET: the rules now installed; the rule is in place when some object in the answer holds every field of the apply body. */
  verifyPath: string;
}

export function checkMethod(text: string, option: string): string {
  const m = text.trim().toUpperCase();
  if (!['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].includes(m))
    throw new UsageError(
      'ISOLATE_BAD_METHOD',
      `${option} must be GET, POST, PUT, PATCH or DELETE (got ${shown(text)})`,
      {
        location: option,
      },
    );
  return m;
}

/** The options as given on the command line, checked; defaults are the playbook's request. */
export function httpTemplates(o: {
  applyMethod?: string;
  applyPath?: string;
  applyBody?: string;
  releaseMethod?: string;
  releasePath?: string;
  releaseBody?: string;
  verifyPath?: string;
}): Pick<HttpControllerOptions, 'apply' | 'release' | 'verifyPath'> {
  const applyBody = parseBodyTemplate(o.applyBody ?? DEFAULT_BODY, '--apply-body');
  const apply = {
    method: checkMethod(o.applyMethod ?? 'POST', '--apply-method'),
    path: checkPathTemplate(o.applyPath ?? DEFAULT_PATH, '--apply-path'),
    body: applyBody,
  };
  const releaseBody =
    o.releaseBody === undefined ? applyBody : parseBodyTemplate(o.releaseBody, '--release-body');
  const release = {
    method: checkMethod(o.releaseMethod ?? 'DELETE', '--release-method'),
    path: checkPathTemplate(o.releasePath ?? apply.path, '--release-path'),
    // An empty template (`--release-body ''`) is a request without a body.
    ...(o.releaseBody === '' ? {} : { body: releaseBody }),
  };
  return { apply, release, verifyPath: checkPathTemplate(o.verifyPath ?? apply.path, '--verify-path') };
}

/** Whether `hay` holds every field (and array element) of `needle`; scalars compare as text. */
function holds(hay: unknown, needle: unknown): boolean {
  if (Array.isArray(needle)) return Array.isArray(hay) && needle.every((n) => hay.some((h) => holds(h, n)));
  if (isRecord(needle)) return isRecord(hay) && Object.entries(needle).every(([k, v]) => holds(hay[k], v));
  return hay !== undefined && hay !== null && String(hay) === String(needle);
}

/** Whether any value anywhere in `tree` holds `needle`. */
export function findRule(tree: unknown, needle: unknown): boolean {
  if (holds(tree, needle)) return true;
  if (Array.isArray(tree)) return tree.some((x) => findRule(x, needle));
  if (isRecord(tree)) return Object.values(tree).some((x) => findRule(x, needle));
  return false;
}

export function httpBackend(opts: HttpControllerOptions): IsolationBackend {
  const base = opts.controller;
  const auth = opts.auth;
  const templates = [
    ['--apply-body', opts.apply.body?.names ?? []],
    ['--apply-path', pathNames(opts.apply.path)],
    ['--release-body', opts.release.body?.names ?? []],
    ['--release-path', pathNames(opts.release.path)],
    ['--verify-path', pathNames(opts.verifyPath)],
  ] as const;

  const request = (purpose: HttpStep['purpose'], r: HttpRequestTemplate, t: IsolationTarget): HttpStep => {
    for (const [option, names] of templates) checkFilled(names, t, option);
    return httpStep(
      purpose,
      r.method,
      `${base}${renderPath(r.path, t)}`,
      auth,
      r.body ? renderBody(r.body, t) : undefined,
    );
  };
  const readStep = (t: IsolationTarget) => request('read', { method: 'GET', path: opts.verifyPath }, t);
  const rule = (t: IsolationTarget) => (opts.apply.body ? renderBody(opts.apply.body, t) : { ip: t.ip });

  return withStatus({
    name: 'http',
    settleMs: 2000,
    plan(action, t) {
      return [
        readStep(t),
        request(
          action === 'isolate' ? 'apply' : 'release',
          action === 'isolate' ? opts.apply : opts.release,
          t,
        ),
        readStep(t),
      ];
    },
    async apply(t, io) {
      const step = request('apply', opts.apply, t);
      // 409: the controller already has that rule; the read-back decides.
      expectStatus(
        await send(io, step, auth),
        step,
        [200, 201, 202, 204, 409],
        'the controller has no such path',
      );
    },
    async verify(t, io): Promise<RuleCheck> {
      const step = readStep(t);
      const answer = await send(io, step, auth);
      const text = `rule ${JSON.stringify(rule(t))}`;
      if (answer.status === 404) return { expected: [text], present: [], detail: `${step.url} answered 404` };
      expectStatus(answer, step, [200], 'the controller has no such path');
      const found = findRule(parseJson(answer, step), rule(t));
      return {
        expected: [text],
        present: found ? [text] : [],
        detail: `${found ? 'a' : 'no'} rule holding the apply body in GET ${step.url}`,
      };
    },
    async release(t, io) {
      const step = request('release', opts.release, t);
      expectStatus(await send(io, step, auth), step, [200, 202, 204, 404], 'the controller has no such path');
    },
  });
}
