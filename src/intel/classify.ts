import { domainToASCII } from 'node:url';
import { getPublicSuffix } from 'tldts';
import { formatIPv4, formatIPv6, maskBytes, maskV4, parseIPv4, parseIPv6 } from './ip.ts';
import type { IndicatorType } from './types.ts';

export type Classified =
  | { ok: true; type: IndicatorType; value: string }
  | { ok: false; code: string; message: string };

const LABEL_RE = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;
const PSL = { allowPrivateDomains: true, extractHostname: false, validateHostname: false } as const;

/**
 * The one place a domain's spelling is made canonical: UTS #46 mapping
 * (WHATWG `domainToASCII`: case folding, fullwidth forms, the ideographic
 * full stop and its kin become ASCII, other Unicode becomes punycode), one
 * root dot dropped, and the DNS limits checked (labels of 1..63
 * characters, 253 in all, no control characters), so that every spelling
 * of a listed name finds it and nothing else passes for a name.
 */
export function canonicalDomain(text: string): Classified {
  let d = text.trim();
  // C0 and C1 controls (ESC, BEL, CR, LF…): no name has them, and they rewrite terminals.
  if (/[\x00-\x1f\x7f-\x9f]/.test(d))
    return bad('INTEL_BAD_DOMAIN', `${JSON.stringify(text)} contains control characters`);
  if (d.length > 4 * 253)
    return bad('INTEL_BAD_DOMAIN', `a ${d.length}-character value is not a domain name`);
  d = /[^\x00-\x7f]/.test(d) ? domainToASCII(d) : d.toLowerCase();
  if (d === '') return bad('INTEL_BAD_DOMAIN', `"${text}" is not a valid internationalised domain name`);
  if (d.endsWith('.')) d = d.slice(0, -1);
  if (d.length === 0) return bad('INTEL_BAD_DOMAIN', `"${text}" is not a domain name`);
  if (d.length > 253)
    return bad(
      'INTEL_BAD_DOMAIN',
      `"${text.slice(0, 40)}…" is ${d.length} characters long; names end at 253`,
    );
  let from = 0;
  for (;;) {
    const dot = d.indexOf('.', from);
    const len = (dot < 0 ? d.length : dot) - from;
    if (len === 0) return bad('INTEL_BAD_DOMAIN', `"${text}" has an empty label`);
    if (len > 63)
      return bad(
        'INTEL_BAD_DOMAIN',
        `"${text.slice(0, 40)}…" has a ${len}-character label; labels end at 63`,
      );
    if (dot < 0) break;
    from = dot + 1;
  }
  return { ok: true, type: 'domain', value: d };
}

/**
 * Canonical lower-case ASCII form of a domain indicator, or an error.
 * Wildcards and a leading dot mean "this domain and below", which is what
 * every domain indicator means here, so they are dropped.
 */
export function normalizeDomain(text: string, checkPublicSuffix = true): Classified {
  let t = text.trim();
  if (t.startsWith('*.')) t = t.slice(2);
  else if (t.startsWith('.')) t = t.slice(1);
  const c = canonicalDomain(t);
  if (!c.ok) return c;
  const d = c.value;
  const labels = d.split('.');
  if (labels.length < 2)
    return bad('INTEL_BAD_DOMAIN', `"${text}" has a single label; refusing to list a TLD`);
  for (const l of labels)
    if (!LABEL_RE.test(l)) return bad('INTEL_BAD_DOMAIN', `"${text}" is not a domain name`);
  if (/^\d+$/.test(labels[labels.length - 1]!))
    return bad('INTEL_BAD_DOMAIN', `"${text}" is not a domain name`);
  // A listed public suffix (co.uk, github.io) would flag every site under it.
  if (checkPublicSuffix && getPublicSuffix(d, PSL) === d)
    return bad('INTEL_PUBLIC_SUFFIX', `"${d}" is a public suffix; listing it would match unrelated sites`);
  return { ok: true, type: 'domain', value: d };
}

/**
 * A domain someone asks about (`intel lookup`, the API): canonical as
 * above, a leading `*.` allowed, and only characters names are made of.
 */
export function domainQuery(text: string): Classified {
  let t = text.trim();
  if (t.startsWith('*.')) t = t.slice(2);
  const c = canonicalDomain(t);
  if (!c.ok) return c;
  if (!/^[a-z0-9_.-]+$/.test(c.value))
    return bad('INTEL_BAD_DOMAIN', `"${text}" has characters no domain name has`);
  return c;
}

export function normalizeIp(text: string): Classified {
  const t = text.trim();
  const slash = t.indexOf('/');
  const addr = slash >= 0 ? t.slice(0, slash) : t;
  const lenText = slash >= 0 ? t.slice(slash + 1) : undefined;
  if (lenText !== undefined && !/^\d{1,3}$/.test(lenText))
    return bad('INTEL_BAD_CIDR', `"${text}" has a bad prefix length`);
  const v4 = parseIPv4(addr);
  if (v4 >= 0) {
    const len = lenText === undefined ? 32 : Number(lenText);
    if (len > 32) return bad('INTEL_BAD_CIDR', `"${text}" has a prefix longer than 32`);
    if (len === 32) return { ok: true, type: 'ipv4', value: formatIPv4(v4) };
    if (len < 8) return bad('INTEL_CIDR_TOO_WIDE', `"${text}" is wider than /8; refusing to list it`);
    return { ok: true, type: 'ipv4-cidr', value: `${formatIPv4((v4 & maskV4(len)) >>> 0)}/${len}` };
  }
  const v6 = parseIPv6(addr);
  if (v6) {
    const len = lenText === undefined ? 128 : Number(lenText);
    if (len > 128) return bad('INTEL_BAD_CIDR', `"${text}" has a prefix longer than 128`);
    if (len === 128) return { ok: true, type: 'ipv6', value: formatIPv6(v6) };
    if (len < 16) return bad('INTEL_CIDR_TOO_WIDE', `"${text}" is wider than /16; refusing to list it`);
    return { ok: true, type: 'ipv6-cidr', value: `${formatIPv6(maskBytes(v6, len))}/${len}` };
  }
  return bad('INTEL_BAD_IP', `"${text}" is not an IP address`);
}

/** `1.2.3.4:3333` or `[2001:db8::1]:3333`. */
export function parseIpPort(text: string): { ip: string; port: number; v6: boolean } | undefined {
  const t = text.trim();
  let host: string;
  let portText: string;
  if (t.startsWith('[')) {
    const close = t.indexOf(']:');
    if (close < 0) return undefined;
    host = t.slice(1, close);
    portText = t.slice(close + 2);
  } else {
    const colon = t.lastIndexOf(':');
    if (colon < 0 || t.indexOf(':') !== colon) return undefined;
    host = t.slice(0, colon);
    portText = t.slice(colon + 1);
  }
  if (!/^\d{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port < 1 || port > 65535) return undefined;
  const ip = normalizeIp(host);
  if (!ip.ok || (ip.type !== 'ipv4' && ip.type !== 'ipv6')) return undefined;
  return { ip: ip.value, port, v6: ip.type === 'ipv6' };
}

/** Normalised URL (lower-case host, no fragment, default port dropped), or an error. */
export function normalizeUrl(text: string): Classified {
  let u: URL;
  try {
    u = new URL(text.trim());
  } catch {
    return bad('INTEL_BAD_URL', `"${text}" is not a URL`);
  }
  if (!u.hostname) return bad('INTEL_BAD_URL', `"${text}" has no host`);
  u.hash = '';
  // Only special schemes (http, ws, …) get their host lower-cased by the URL parser; stratum+tcp does not.
  if (u.hostname !== u.hostname.toLowerCase()) u.hostname = u.hostname.toLowerCase();
  return { ok: true, type: 'url', value: u.href };
}

/** Works out what kind of indicator a bare value is. */
export function classifyValue(text: string, checkPublicSuffix = true): Classified {
  const t = text.trim();
  if (t.length === 0) return bad('INTEL_EMPTY', 'empty value');
  if (t.includes('://')) return normalizeUrl(t);
  const ip = normalizeIp(t);
  if (ip.ok) return ip;
  const ipPort = parseIpPort(t);
  if (ipPort) return { ok: true, type: 'ip-port', value: formatIpPort(ipPort.ip, ipPort.port, ipPort.v6) };
  if (/^[\d./]+$/.test(t) || (t.includes(':') && !t.includes('.'))) return ip;
  return normalizeDomain(t, checkPublicSuffix);
}

export function formatIpPort(ip: string, port: number, v6: boolean): string {
  return v6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}

function bad(code: string, message: string): Classified {
  return { ok: false, code, message };
}
