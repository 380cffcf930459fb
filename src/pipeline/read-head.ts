import { closeSync, openSync, readSync } from 'node:fs';
import { HEAD_BYTES } from '../core/stages.ts';

/** The first bytes of a file, for the sources' content sniffing. Synchronous: one small read costs far less than three thread-pool round trips. */
export function readHead(path: string): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const buf = new Uint8Array(HEAD_BYTES);
    const bytesRead = readSync(fd, buf, 0, HEAD_BYTES, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    closeSync(fd);
  }
}
