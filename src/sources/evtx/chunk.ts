import { crc32 } from 'node:zlib';
import type { ParseIssue } from '../../core/errors.ts';
import { BinXmlError, newChunkContext, parseFragment } from './binxml.ts';
import { fragmentToJson } from './render-json.ts';
import { filetime } from './text.ts';
import type { EvtxItem, EvtxRecord, Fragment } from './types.ts';

export const FILE_HEADER_SIZE = 4096;
export const CHUNK_SIZE = 65536;
const CHUNK_HEADER_SIZE = 512;
const RECORD_HEADER_SIZE = 24;
/** "**\0\0" read as a little-endian u32. */
const RECORD_MAGIC = 0x00002a2a;
const CHUNK_MAGIC = [0x45, 0x6c, 0x66, 0x43, 0x68, 0x6e, 0x6b, 0x00]; // "ElfChnk\0"

/** The parsed binary XML of each record, kept beside it so that XML can be rendered on demand. */
export const recordTrees = new WeakMap<EvtxRecord, Fragment>();

export interface ChunkPlace {
  /** File name used in issue locations. */
  name: string;
  /** Chunk index, counted from the first chunk after the file header. */
  index: number;
  /** File offset of the chunk. */
  fileOffset: number;
  /**
   * Keep each record's tree for renderXml (default). Readers that only use the
   * JSON turn it off: the weak map's entries outlive their records until a full
   * garbage collection, and every young-generation collection has to walk them.
   */
  keepTrees?: boolean;
}

function issue(code: string, message: string, place: ChunkPlace, chunkOffset: number): EvtxItem {
  const i: ParseIssue = {
    code,
    message: `chunk ${place.index}: ${message}`,
    location: `${place.name}:${place.fileOffset + chunkOffset}`,
  };
  return { kind: 'issue', issue: i };
}

function hasChunkMagic(buf: Uint8Array): boolean {
  for (let i = 0; i < 8; i++) if (buf[i] !== CHUNK_MAGIC[i]) return false;
  return true;
}

const ZEROS = new Uint8Array(4096);

/** Preallocated chunks are 64 KiB of zeros: compare them a page at a time (native memcmp), not byte by byte. */
function allZero(buf: Uint8Array, from: number): boolean {
  for (let i = from; i < buf.length; i += ZEROS.length) {
    const end = Math.min(buf.length, i + ZEROS.length);
    if (Buffer.compare(buf.subarray(i, end), ZEROS.subarray(0, end - i)) !== 0) return false;
  }
  return true;
}

function recordAt(dv: DataView, pos: number): number {
  const len = dv.byteLength;
  if (pos + RECORD_HEADER_SIZE + 4 > len || dv.getUint32(pos, true) !== RECORD_MAGIC) return 0;
  const size = dv.getUint32(pos + 4, true);
  if (size < RECORD_HEADER_SIZE + 8 || size > len - pos || dv.getUint32(pos + size - 4, true) !== size)
    return 0;
  return size;
}

/** Next offset (8-byte aligned, as records are) in [from, end) that holds a record whose two size fields agree. */
function findRecord(dv: DataView, from: number, end: number): number {
  for (let p = from; p + RECORD_HEADER_SIZE <= end; p += 8) if (recordAt(dv, p) > 0) return p;
  return -1;
}

/**
 * Parses one 64 KiB chunk (shorter when the file is truncated). A damaged
 * header, checksum or record is reported and the records that can still be
 * trusted — found by their magic and matching leading/trailing sizes — are kept.
 */
export function* parseChunk(buf: Uint8Array, place: ChunkPlace): Generator<EvtxItem> {
  if (buf.length < CHUNK_SIZE && !allZero(buf, 0))
    yield issue('EVTX_TRUNCATED_CHUNK', `only ${buf.length} of ${CHUNK_SIZE} bytes present`, place, 0);
  if (buf.length < CHUNK_HEADER_SIZE + RECORD_HEADER_SIZE) return;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let trusted = true;
  if (!hasChunkMagic(buf)) {
    // Preallocated, never-used chunks are all zeros: nothing to report.
    if (allZero(buf, 0)) return;
    yield issue('EVTX_BAD_CHUNK', 'no chunk signature; scanning it for records', place, 0);
    trusted = false;
  } else {
    const headerCrc = crc32(buf.subarray(128, CHUNK_HEADER_SIZE), crc32(buf.subarray(0, 120)));
    if (headerCrc !== dv.getUint32(124, true)) {
      yield issue(
        'EVTX_CHUNK_HEADER_CRC',
        'chunk header checksum mismatch; scanning it for records',
        place,
        124,
      );
      trusted = false;
    }
  }
  let end = buf.length;
  if (trusted) {
    const free = dv.getUint32(48, true);
    if (free < CHUNK_HEADER_SIZE || free > CHUNK_SIZE) {
      yield issue('EVTX_BAD_CHUNK', `free space offset ${free} is impossible; scanning the chunk`, place, 48);
      trusted = false;
    } else {
      end = Math.min(free, buf.length);
      if (free <= buf.length && crc32(buf.subarray(CHUNK_HEADER_SIZE, free)) !== dv.getUint32(52, true))
        yield issue(
          'EVTX_CHUNK_DATA_CRC',
          'event records checksum mismatch; checking each record',
          place,
          52,
        );
    }
  }
  const ctx = newChunkContext(buf);
  let pos = CHUNK_HEADER_SIZE;
  while (pos + RECORD_HEADER_SIZE <= end) {
    const size = recordAt(dv, pos);
    if (size === 0) {
      const next = findRecord(dv, pos + 8, end);
      // Slack after the last record of an untrusted chunk is expected; only report damage inside the used area.
      if (trusted || next >= 0) {
        const what =
          next >= 0 ? `skipped ${next - pos} bytes to the next record` : 'no further record in this chunk';
        yield issue('EVTX_BAD_RECORD', `no valid record at chunk offset ${pos}; ${what}`, place, pos);
      }
      if (next < 0) return;
      pos = next;
      continue;
    }
    yield parseRecord(ctx, dv, pos, size, place);
    pos += size;
  }
}

function parseRecord(
  ctx: ReturnType<typeof newChunkContext>,
  dv: DataView,
  pos: number,
  size: number,
  place: ChunkPlace,
): EvtxItem {
  const recordId = dv.getUint32(pos + 12, true) * 2 ** 32 + dv.getUint32(pos + 8, true);
  try {
    const frag = parseFragment(ctx, pos + RECORD_HEADER_SIZE, pos + size - 4);
    const record: EvtxRecord = {
      recordId,
      timestamp: filetime(dv, pos + 16),
      chunk: place.index,
      offset: place.fileOffset + pos,
      event: fragmentToJson(frag),
    };
    if (place.keepTrees !== false) recordTrees.set(record, frag);
    return { kind: 'record', record };
  } catch (e) {
    // Whatever went wrong belongs to this record alone: report it and go on with the next one.
    const code = e instanceof BinXmlError ? e.code : 'EVTX_BAD_RECORD';
    const at = e instanceof BinXmlError ? ` (chunk offset ${e.offset})` : '';
    const message = e instanceof Error ? e.message : String(e);
    return issue(code, `record ${recordId}: ${message}${at}`, place, pos);
  }
}
