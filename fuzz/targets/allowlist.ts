import { parseAllowlist } from '../../src/detect/host/allowlist/parse.ts';
import { type Features, refusalAware, text } from '../expected.ts';

/** The allow-list XML; DTDs and malformed XML are refused with a UsageError, which is expected. */
export function fuzz(data: Uint8Array): Features {
  return refusalAware(() => {
    const entries = parseAllowlist(text(data), 'allow.xml');
    return [`entries:${Math.min(entries.length, 4)}`];
  });
}
