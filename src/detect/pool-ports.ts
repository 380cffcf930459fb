import { readFileSync } from 'node:fs';
import { dataPath } from '../core/paths.ts';

let cached: ReadonlySet<number> | undefined;

/** The pool-port list (data/pool-ports.json) that the host scanner and the network analysis share. */
export function poolPorts(): ReadonlySet<number> {
  cached ??= new Set(
    (
      JSON.parse(readFileSync(dataPath('pool-ports.json'), 'utf8')) as { ports: { port: number }[] }
    ).ports.map((p) => p.port),
  );
  return cached;
}
