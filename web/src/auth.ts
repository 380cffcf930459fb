import { API } from './api.ts';
import type { ConsoleRole, Role } from './types.ts';

/** A token the console will not log in with, and why, in words for the login page. */
export class LoginRefused extends Error {
  override name = 'LoginRefused';
}

const MACHINE_ROLE =
  'This is an agent or sensor token: it sends findings and cannot read them. Log in with an admin, analyst or viewer token (deminer token create --role viewer).';

export interface Identity {
  role: ConsoleRole;
  id?: string;
  name?: string;
}

/**
 * Who a pasted token is: `GET /api/v1/whoami` answers with its id, role and
 * name. Agent and sensor tokens are refused there (403) and here: they
 * write findings and may not read them.
 */
export async function identify(token: string): Promise<Identity> {
  let res: Response;
  try {
    res = await fetch(`${API}/whoami`, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      cache: 'no-store',
    });
  } catch {
    throw new LoginRefused('The server cannot be reached.');
  }
  const body: unknown = await res.json().catch(() => undefined);
  if (res.status === 401)
    throw new LoginRefused(
      'The server does not know this token: mistyped, revoked, or made for another server.',
    );
  if (res.status === 403) throw new LoginRefused(MACHINE_ROLE);
  if (res.status === 429)
    throw new LoginRefused('Too many failed logins from this address: wait a minute and try again.');
  if (res.status === 404)
    throw new LoginRefused('This server is older than its console (no GET /api/v1/whoami): update deminer.');
  if (!res.ok || typeof body !== 'object' || body === null)
    throw new LoginRefused(`The server answered ${res.status}; try again.`);
  const { role, name, id } = body as Record<string, unknown>;
  if (role !== 'admin' && role !== 'analyst' && role !== 'viewer') {
    if (role === 'agent' || role === 'sensor') throw new LoginRefused(MACHINE_ROLE);
    throw new LoginRefused(`The role "${String(role as Role)}" cannot use the console.`);
  }
  const out: Identity = { role };
  if (typeof name === 'string') out.name = name;
  if (typeof id === 'string') out.id = id;
  return out;
}
