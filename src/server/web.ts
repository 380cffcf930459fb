import { readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { packagePath } from '../core/paths.ts';
import { API_PREFIX } from './openapi.ts';

/**
 * The web console: the single-page app Vite builds into `dist/web/`
 * (index.html and hashed files under assets/), served from the same origin
 * as the API. Files need no token (the app asks for one and sends it to
 * the API); every other GET outside /api is a page of the app (a deep link
 * such as /hosts/abc) and answers index.html, which routes in the browser.
 */

/** Where `npm run build` puts the console: beside the bundled CLI (dist/), found from the package root either way. */
export function defaultWebRoot(): string {
  return packagePath('dist', 'web');
}

/**
 * The console's headers. The policy allows the app's own files only: no
 * inline script, no other origin to load from or talk to, no framing;
 * inline styles are allowed (the charts set element styles).
 */
export const CONSOLE_CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** Hashed file names change with their content: cached for a year, never revalidated. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

/** The API's own space: everything below it answers JSON, a 404 included. */
export function isApiPath(url: string): boolean {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  return path === '/api' || path.startsWith('/api/');
}

export function setConsoleHeaders(reply: FastifyReply): void {
  reply.header('content-security-policy', CONSOLE_CSP);
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'no-referrer');
  if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-cache');
}

/**
 * Serves the files of `root` (which need not exist yet: a console built
 * after the server started is served without a restart). A directory has
 * no index here: `/` is a page of the app like any other (sendConsolePage).
 */
export function registerConsole(app: FastifyInstance, root: string): void {
  app.get('/', async (req, reply) => {
    await sendConsolePage(req, reply, root);
    return reply;
  });
  app.register(fastifyStatic, {
    root,
    prefix: '/',
    index: false,
    redirect: false,
    dotfiles: 'ignore',
    cacheControl: false,
    suppressWarning: true,
    setHeaders(reply, path) {
      const rel = relative(root, path);
      reply.header('cache-control', rel.startsWith(`assets${sep}`) ? IMMUTABLE : 'no-cache');
    },
  });
}

/** Answered while dist/web has no index.html (a checkout that was never built). */
const NOT_BUILT = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>deminer</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em}code{background:#eee;padding:0 .3em}</style>
</head>
<body>
<h1>deminer</h1>
<p>The web console is not built. Run <code>npm run build</code> in the deminer folder, then reload this page.</p>
<p>The HTTP API is at <a href="${API_PREFIX}/openapi.json"><code>${API_PREFIX}</code></a> and works without it.</p>
</body>
</html>
`;

/**
 * The not-found handler's share: a GET or HEAD outside /api is a page of
 * the app, answered with its index.html (or the not-built page); a missing
 * file under /assets/ stays a 404 (a browser must not run a page as a
 * script). Returns false when the request is not the console's.
 */
export async function sendConsolePage(
  req: FastifyRequest,
  reply: FastifyReply,
  root: string,
): Promise<boolean> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (isApiPath(req.url)) return false;
  if (req.url.startsWith('/assets/')) {
    await reply.code(404).type('text/plain; charset=utf-8').send('not found\n');
    return true;
  }
  let html: Buffer | string;
  try {
    html = await readFile(join(root, 'index.html'));
  } catch {
    html = NOT_BUILT;
  }
  await reply.code(200).type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(html);
  return true;
}
