import { createReadStream } from 'node:fs';
import type { ParseIssue } from '../../core/errors.ts';

export type JsonItem = { kind: 'doc'; doc: unknown; line: number } | { kind: 'issue'; issue: ParseIssue };

/** Documents larger than this are reported and skipped rather than held in memory. */
const MAX_DOC_CHARS = 64 * 1024 * 1024;
/**
 * Deeper documents are reported and skipped. Event exports nest a dozen
 * levels at most; every consumer of a document (normalisers, the Sigma
 * field walk, worker messages) recurses over it, and a value nested
 * thousands deep overflowed the stack and ended the whole file.
 */
export const MAX_DOC_DEPTH = 128;

/**
 * Reads JSON documents from a file in any of the layouts event exports use:
 * JSON Lines, pretty-printed documents one after another, or one top-level
 * array of documents. Streams, so exports larger than memory work; a
 * document that does not parse is reported with its line and skipped.
 */
export async function* readJsonDocuments(path: string): AsyncGenerator<JsonItem> {
  let buf = '';
  let pos = 0;
  let line = 1;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = -1;
  let startLine = 1;
  let tooDeep = false;
  let arrayMode: boolean | undefined;
  const base = (): number => (arrayMode ? 1 : 0);

  for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    buf += chunk as string;
    while (pos < buf.length) {
      const c = buf.charCodeAt(pos);
      if (inString) {
        if (escaped) escaped = false;
        else if (c === 0x5c) escaped = true;
        else if (c === 0x22) inString = false;
        else if (c === 0x0a) line++;
        pos++;
        continue;
      }
      if (c === 0x0a) line++;
      if (depth === base() && start < 0) {
        // Between documents: whitespace, commas of an array, a BOM, or its closing bracket.
        if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x2c || c === 0xfeff) {
          pos++;
          continue;
        }
        if (arrayMode === undefined && c === 0x5b) {
          arrayMode = true;
          depth = 1;
          pos++;
          continue;
        }
        if (arrayMode && c === 0x5d) {
          depth = 0;
          arrayMode = false;
          pos++;
          continue;
        }
        if (c !== 0x7b) {
          // Not a document: report the line and skip it.
          const nl = buf.indexOf('\n', pos);
          if (nl < 0 && buf.length - pos < MAX_DOC_CHARS) break;
          yield {
            kind: 'issue',
            issue: {
              code: 'JSON_NOT_A_DOCUMENT',
              message: 'expected a JSON object',
              location: `${path}:${line}`,
            },
          };
          pos = nl < 0 ? buf.length : nl;
          continue;
        }
        arrayMode ??= false;
        start = pos;
        startLine = line;
      }
      if (c === 0x22) inString = true;
      else if (c === 0x7b || c === 0x5b) {
        // Counted while scanning, so the check costs one comparison per bracket.
        if (++depth - base() > MAX_DOC_DEPTH) tooDeep = true;
      } else if (c === 0x7d || c === 0x5d) {
        depth--;
        if (depth === base() && start >= 0) {
          const docStart = start;
          start = -1;
          if (tooDeep) {
            tooDeep = false;
            yield {
              kind: 'issue',
              issue: {
                code: 'JSON_TOO_DEEP',
                message: `document nested more than ${MAX_DOC_DEPTH} levels deep skipped`,
                location: `${path}:${startLine}`,
              },
            };
            pos++;
            continue;
          }
          const text = buf.slice(docStart, pos + 1);
          let doc: unknown;
          try {
            doc = JSON.parse(text);
          } catch (e) {
            yield {
              kind: 'issue',
              issue: {
                code: 'JSON_BAD_DOCUMENT',
                message: (e as Error).message,
                location: `${path}:${startLine}`,
              },
            };
            pos++;
            continue;
          }
          yield { kind: 'doc', doc, line: startLine };
        }
      }
      pos++;
    }
    // Keep only the unfinished document.
    const keep = start >= 0 ? start : pos;
    if (start >= 0 && pos - start > MAX_DOC_CHARS) {
      yield {
        kind: 'issue',
        issue: {
          code: 'JSON_TOO_LARGE',
          message: 'document larger than 64 MiB skipped',
          location: `${path}:${startLine}`,
        },
      };
      start = -1;
      tooDeep = false;
      depth = base();
      buf = '';
      pos = 0;
      continue;
    }
    buf = buf.slice(keep);
    if (start >= 0) start -= keep;
    pos -= keep;
  }
  if (start >= 0)
    yield {
      kind: 'issue',
      issue: {
        code: 'JSON_TRUNCATED',
        message: 'file ends inside a JSON document',
        location: `${path}:${startLine}`,
      },
    };
}
