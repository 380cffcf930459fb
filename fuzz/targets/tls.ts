import { TlsStream } from '../../src/sources/protocols/tls-handshake.ts';
import type { Features } from '../expected.ts';

/**
 * One side of a TLS connection, fed as the analyzer feeds it: the growing
 * contiguous stream, first a prefix (a segment boundary picked by the first
 * byte), then all of it. The first byte is not part of the stream (the seeds
 * are ClientHellos behind one such byte).
 */
export function fuzz(data: Uint8Array): Features {
  if (data.length === 0) return [];
  const stream = data.subarray(1);
  const s = new TlsStream();
  s.feed(stream.subarray(0, data[0]! % (stream.length + 1)));
  s.feed(stream);
  return Object.keys(s.facts).map((k) => `fact:${k}`);
}
