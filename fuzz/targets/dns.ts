import { parseDnsMessage } from '../../src/sources/protocols/dns-message.ts';
import type { Features } from '../expected.ts';

/**
 * One DNS message. The first byte picks an offset into the rest, as a UDP
 * payload inside a frame has one: name compression pointers are relative to
 * the message, not to the buffer, and that difference is where bugs hide.
 */
export function fuzz(data: Uint8Array): Features {
  if (data.length === 0) return [];
  const off = data[0]! % Math.min(16, data.length);
  const body = data.subarray(1);
  const at = Math.min(off, body.length);
  const r = parseDnsMessage(body, at, body.length - at);
  if ('error' in r) return [`error:${r.error}`];
  return [`response:${r.response}`, ...r.answers.map((a) => `answer:${a.type}`)];
}
