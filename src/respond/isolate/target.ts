import ipaddr from 'ipaddr.js';
import { UsageError } from '../../core/errors.ts';
import type { IsolationTarget } from './types.ts';

/** How a value the user typed is shown in a message: quoted, cut, never raw. */
export function shown(value: string): string {
  const s = value.length > 80 ? `${value.slice(0, 80)}…` : value;
  return JSON.stringify(s);
}

/**
 * One IPv4 or IPv6 address, strictly: four decimal parts for IPv4 (no octal,
 * hex or short forms that some parsers accept), no IPv6 zone, no prefix.
 * Returns the canonical text (RFC 5952 for IPv6), or undefined.
 */
export function canonicalAddress(text: string): { ip: string; family: 4 | 6 } | undefined {
  if (text.length === 0 || text.length > 45 || !/^[0-9A-Fa-f:.]+$/.test(text)) return undefined;
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return { ip: ipaddr.IPv4.parse(text).toString(), family: 4 };
  if (!text.includes(':') || !ipaddr.IPv6.isValid(text)) return undefined;
  const v6 = ipaddr.IPv6.parse(text);
  // An IPv4-mapped address is the IPv4 host as far as any switch is concerned.
  if (v6.isIPv4MappedAddress()) return { ip: v6.toIPv4Address().toString(), family: 4 };
  return { ip: v6.toRFC5952String(), family: 6 };
}

/** Ranges that never name one host: isolating them is a mistake, not a response. */
const NOT_A_HOST = new Set(['unspecified', 'broadcast', 'multicast', 'loopback']);

const MAC_RE = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/;

/** `--port`: an OpenFlow port number (1..0xffffff00, the range of physical and logical ports). */
function checkPort(port: string): string {
  if (!/^[0-9]{1,10}$/.test(port) || Number(port) < 1 || Number(port) > 0xffffff00)
    throw new UsageError('ISOLATE_BAD_PORT', `--port must be an OpenFlow port number (got ${shown(port)})`, {
      location: '--port',
    });
  return String(Number(port));
}

/**
 * The target as given on the command line (or by the server later): refused
 * with a usage error naming it unless it is exactly one host address. Nothing
 * the user typed reaches a command line or a template before this passed.
 */
export function parseTarget(text: string, extra: { mac?: string; port?: string } = {}): IsolationTarget {
  const addr = canonicalAddress(text.trim());
  if (!addr) {
    const hint = /^[0-9A-Fa-f:.]+\/[0-9]+$/.test(text.trim())
      ? ': a target is one host address, not a network'
      : ' (a host name needs --server URL --token T)';
    throw new UsageError('ISOLATE_BAD_TARGET', `${shown(text)} is not an IPv4 or IPv6 address${hint}`, {
      location: 'TARGET',
    });
  }
  const range = ipaddr.parse(addr.ip).range();
  if (NOT_A_HOST.has(range))
    throw new UsageError('ISOLATE_BAD_TARGET', `${addr.ip} is a ${range} address, not one host`, {
      location: 'TARGET',
    });
  const target: { ip: string; family: 4 | 6; mac?: string; port?: string } = { ...addr };
  if (extra.mac !== undefined) {
    const mac = extra.mac.trim().toLowerCase().replaceAll('-', ':');
    if (!MAC_RE.test(mac) || mac === 'ff:ff:ff:ff:ff:ff' || mac === '00:00:00:00:00:00')
      throw new UsageError(
        'ISOLATE_BAD_MAC',
        `--mac must be one unicast MAC address (got ${shown(extra.mac)})`,
        {
          location: '--mac',
        },
      );
    // The group bit: a multicast MAC is no single host either.
    if ((Number.parseInt(mac.slice(0, 2), 16) & 1) === 1)
      throw new UsageError('ISOLATE_BAD_MAC', `--mac ${mac} is a multicast address, not one host`, {
        location: '--mac',
      });
    target.mac = mac;
  }
  if (extra.port !== undefined) target.port = checkPort(extra.port.trim());
  return target;
}

/** `ip/32` or `ip/128`: the form controllers take for one host. */
export function hostPrefix(t: IsolationTarget): string {
  return `${t.ip}/${t.family === 4 ? 32 : 128}`;
}
