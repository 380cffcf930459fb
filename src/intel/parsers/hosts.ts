import type { ParseOptions, ParseResult } from './sink.ts';
import { eachLine, ParseSink } from './sink.ts';

/** Names every hosts file maps to itself; they are not indicators. */
const LOCAL_NAMES = new Set([
  'localhost',
  'localhost.localdomain',
  'local',
  'broadcasthost',
  'ip6-localhost',
  'ip6-loopback',
  'ip6-localnet',
  'ip6-mcastprefix',
  'ip6-allnodes',
  'ip6-allrouters',
  'ip6-allhosts',
  '0.0.0.0',
]);

/** Hosts-file blocklists (`0.0.0.0 name [name…]`): every name on a line is a domain indicator. */
export function parseHosts(text: string, options: ParseOptions): ParseResult {
  const sink = new ParseSink(options);
  eachLine(text, (raw, n) => {
    const hash = raw.indexOf('#');
    const line = (hash >= 0 ? raw.slice(0, hash) : raw).trim();
    if (line === '') return sink.ignore();
    const fields = line.split(/\s+/);
    if (fields.length < 2) {
      sink.issue('INTEL_BAD_HOSTS_LINE', `expected "address name…", got "${line}"`, n);
      return;
    }
    for (const name of fields.slice(1)) {
      if (LOCAL_NAMES.has(name.toLowerCase())) sink.ignore();
      else sink.value(name, n, {}, ['domain']);
    }
  });
  return sink.result;
}
