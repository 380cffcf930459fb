import { parseDhcpNaming } from '../../src/sources/protocols/dhcp-message.ts';
import type { Features } from '../expected.ts';

/** One DHCP payload (BOOTP header, cookie, options); the first byte shifts it inside the buffer. */
export function fuzz(data: Uint8Array): Features {
  if (data.length === 0) return [];
  const body = data.subarray(1);
  const at = Math.min(data[0]! % 8, body.length);
  const r = parseDhcpNaming(body, at, body.length - at);
  return r ? ['named', r.mac ? 'mac' : 'no-mac'] : ['none'];
}
