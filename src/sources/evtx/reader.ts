import { open } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { UsageError } from '../../core/errors.ts';
import { CHUNK_SIZE, FILE_HEADER_SIZE, parseChunk } from './chunk.ts';
import type { EvtxItem } from './types.ts';

const FILE_MAGIC = [0x45, 0x6c, 0x66, 0x46, 0x69, 0x6c, 0x65, 0x00]; // "ElfFile\0"

/** Content sniffing: an EVTX file starts with "ElfFile\0". */
export function isEvtx(head: Uint8Array): boolean {
  if (head.length < 8) return false;
  for (let i = 0; i < 8; i++) if (head[i] !== FILE_MAGIC[i]) return false;
  return true;
}

function headerIssues(head: Uint8Array, name: string): EvtxItem[] {
  const out: EvtxItem[] = [];
  const report = (code: string, message: string, offset: number) =>
    out.push({ kind: 'issue', issue: { code, message, location: `${name}:${offset}` } });
  if (!isEvtx(head)) {
    report('EVTX_BAD_FILE_HEADER', 'no EVTX file signature; scanning for chunks anyway', 0);
    return out;
  }
  if (head.length < 128) {
    report('EVTX_TRUNCATED_FILE', `file header has only ${head.length} bytes`, 0);
    return out;
  }
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  if (crc32(head.subarray(0, 120)) !== dv.getUint32(124, true))
    report('EVTX_FILE_HEADER_CRC', 'file header checksum mismatch; its counts are not used', 124);
  return out;
}

/**
 * Parses a whole EVTX file held in memory, in file order. Never throws on bad
 * content. With `keepTrees: false` its records cannot be rendered as XML.
 */
export function* parseEvtxBuffer(
  buf: Uint8Array,
  name: string,
  opts: { keepTrees?: boolean } = {},
): Generator<EvtxItem> {
  yield* headerIssues(buf.subarray(0, Math.min(buf.length, FILE_HEADER_SIZE)), name);
  if (buf.length <= FILE_HEADER_SIZE && isEvtx(buf) && buf.length < FILE_HEADER_SIZE)
    yield {
      kind: 'issue',
      issue: {
        code: 'EVTX_TRUNCATED_FILE',
        message: 'file ends inside its header',
        location: `${name}:${buf.length}`,
      },
    };
  // Chunks are read by position, not by the header's chunk count: a dirty file's header lags behind its chunks.
  for (let off = FILE_HEADER_SIZE, index = 0; off < buf.length; off += CHUNK_SIZE, index++)
    yield* parseChunk(buf.subarray(off, Math.min(off + CHUNK_SIZE, buf.length)), {
      name,
      index,
      fileOffset: off,
      keepTrees: opts.keepTrees !== false,
    });
}

async function readFully(
  fh: Awaited<ReturnType<typeof open>>,
  into: Uint8Array,
  position: number,
): Promise<number> {
  let got = 0;
  while (got < into.length) {
    const { bytesRead } = await fh.read(into, got, into.length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}

/**
 * Streams the records of an EVTX file in file order, one 64 KiB chunk in memory
 * at a time. Throws only when the path cannot be opened (UsageError); damaged
 * content becomes `issue` items.
 */
export async function* readEvtxFile(
  path: string,
  opts: { signal?: AbortSignal; keepTrees?: boolean } = {},
): AsyncGenerator<EvtxItem> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw new UsageError('EVTX_UNREADABLE', `cannot open: ${(e as Error).message}`, {
      location: path,
      cause: e,
    });
  }
  try {
    const head = new Uint8Array(FILE_HEADER_SIZE);
    let n: number;
    try {
      n = await readFully(fh, head, 0);
    } catch (e) {
      throw new UsageError('EVTX_UNREADABLE', `cannot read: ${(e as Error).message}`, {
        location: path,
        cause: e,
      });
    }
    yield* headerIssues(head.subarray(0, n), path);
    if (n < FILE_HEADER_SIZE && isEvtx(head)) {
      yield {
        kind: 'issue',
        issue: {
          code: 'EVTX_TRUNCATED_FILE',
          message: 'file ends inside its header',
          location: `${path}:${n}`,
        },
      };
      return;
    }
    const chunk = new Uint8Array(CHUNK_SIZE);
    for (let off = FILE_HEADER_SIZE, index = 0; ; off += CHUNK_SIZE, index++) {
      if (opts.signal?.aborted) return;
      let got: number;
      try {
        got = await readFully(fh, chunk, off);
      } catch (e) {
        yield {
          kind: 'issue',
          issue: { code: 'EVTX_READ_ERROR', message: (e as Error).message, location: `${path}:${off}` },
        };
        return;
      }
      if (got === 0) return;
      // The chunk buffer is reused: parsed records hold decoded strings, never views of it.
      const place = { name: path, index, fileOffset: off, keepTrees: opts.keepTrees !== false };
      for (const item of parseChunk(chunk.subarray(0, got), place)) {
        if (opts.signal?.aborted) return;
        yield item;
      }
      if (got < CHUNK_SIZE) return;
    }
  } finally {
    await fh.close();
  }
}
