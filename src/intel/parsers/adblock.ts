import type { ParseOptions, ParseResult } from './sink.ts';
import { eachLine, ParseSink } from './sink.ts';

/**
 * Adblock-style lists. Only network rules anchored on a whole domain
 * (`||pool.example^`, with or without `$options`) name a host; path rules,
 * cosmetic rules (`##`), scriptlets and exceptions (`@@`) cannot be matched
 * against a DNS name or a flow, so they are counted as ignored. Bare
 * hostname lines are blocked hosts, as uBlock Origin reads them.
 */
export function parseAdblock(text: string, options: ParseOptions): ParseResult {
  const sink = new ParseSink(options);
  eachLine(text, (raw, n) => {
    const line = raw.trim();
    if (line === '' || line[0] === '!' || line[0] === '[' || line[0] === '#') return sink.ignore();
    if (line.includes('##') || line.includes('#@#') || line.includes('#$#')) return sink.ignore();
    // uBlock Origin reads a bare hostname line as "block this host".
    if (/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.[A-Za-z][A-Za-z0-9-]*$/.test(line))
      return sink.value(line, n, {}, ['domain']);
    if (!line.startsWith('||')) return sink.ignore();
    const dollar = line.indexOf('$');
    const rule = dollar >= 0 ? line.slice(2, dollar) : line.slice(2);
    const m = /^([^/^*|:?]+)(\^|\^\|)?$/.exec(rule);
    if (m) sink.value(m[1]!, n, {}, ['domain', 'ipv4', 'ipv6']);
    else if (/^[^/^*|:?]+:\d+\^?$/.test(rule)) sink.value(rule.replace(/\^$/, ''), n);
    else sink.ignore();
  });
  return sink.result;
}
