import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { UsageError } from '../../core/errors.ts';
import { HostNames } from '../../core/host-identity.ts';

/** An asset map holds one line per address; more than this is not an asset map. */
const MAX_ENTRIES = 1_000_000;
const MAX_BYTES = 64 * 1024 * 1024;

/**
 * An asset map: which host holds which address, so that network findings
 * name the host as the scanner and the event logs do. CSV or whitespace
 * separated, `address,name` per line; `#` starts a comment; a header line
 * (`ip,name` or `address,hostname`) is allowed. Bad lines are usage errors
 * naming `file:line`: a map that silently drops entries would misname hosts.
 */
export function loadAssetMap(path: string, into: HostNames = new HostNames(MAX_ENTRIES)): HostNames {
  let text: string;
  try {
    const buf = readFileSync(path);
    if (buf.length > MAX_BYTES)
      throw new UsageError('ASSETS_TOO_LARGE', `larger than ${MAX_BYTES} bytes`, { location: path });
    text = buf.toString('utf8');
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError('ASSETS_UNREADABLE', `cannot read asset map: ${(e as Error).message}`, {
      location: path,
      cause: e,
    });
  }
  const lines = text.split('\n');
  let first = true;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/#.*/, '').trim();
    if (line === '') continue;
    const [ip, name, ...rest] = line.split(/[\s,;]+/);
    // The first line may name the columns instead.
    const header = first && ip !== undefined && isIP(ip) === 0;
    first = false;
    if (header) continue;
    if (ip === undefined || name === undefined || rest.length > 0 || isIP(ip) === 0)
      throw new UsageError('ASSETS_BAD_LINE', 'expected "address,name"', { location: `${path}:${i + 1}` });
    into.learn(ip, name, 'asset-map');
  }
  return into;
}
