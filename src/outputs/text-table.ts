import Table from 'cli-table3';
import picocolors from 'picocolors';
import { escapeControls } from './safe-text.ts';

/**
 * Colour functions that always colour: whether to colour is the caller's
 * choice (`color` of the table, from the CLI's terminal check), not
 * picocolors' own guess from the environment.
 */
export const colours = picocolors.createColors(true);

/** A cell whose text is styled (coloured) on a terminal; the text is escaped before the style is applied. */
export interface Painted {
  readonly text: string;
  readonly style: (s: string) => string;
}

/**
 * What a table cell can hold. Strings are escaped; a list of strings is one
 * cell of several lines (each escaped, so only our own line breaks remain).
 */
export type Cell = string | number | readonly string[] | Painted;

export function paint(text: string, style: (s: string) => string): Painted {
  return { text, style };
}

export interface TextTableOptions {
  head: readonly string[];
  /** Colour the head, borders and painted cells (a terminal); plain text otherwise. */
  color: boolean;
  colWidths?: readonly number[];
  /** Wrap cell text at whitespace to the column widths; words longer than a column are broken. */
  wordWrap?: boolean;
  /** Kept for callers; wrapping is always at whitespace (long words broken), whatever this says. */
  wrapOnWordBoundary?: boolean;
}

/**
 * A cli-table3 table that escapes every cell: nothing pushed into it can
 * reach the terminal as a control sequence or an extra line.
 */
export class TextTable {
  private readonly table: InstanceType<typeof Table>;
  private readonly color: boolean;
  /** Characters per line of each column when we break long text ourselves (see `hardWrap`). */
  private readonly hardWrap: readonly number[] | undefined;
  private rows = 0;

  constructor(opts: TextTableOptions) {
    this.color = opts.color;
    // cli-table3 wraps at whitespace, measuring without colour codes, but a
    // word longer than its column is cut off (or, with `wrapOnWordBoundary:
    // false`, broken by string length, colour codes counted, which cuts an SGR
    // sequence in two). We break such words ourselves before the text is
    // painted, and let cli-table3 wrap only at whitespace.
    const wrap = opts.wordWrap === true && opts.colWidths !== undefined;
    this.hardWrap = wrap ? opts.colWidths?.map((w) => Math.max(1, w - 2)) : undefined;
    this.table = new Table({
      head: opts.head.map(escapeControls),
      style: { head: opts.color ? ['bold'] : [], border: opts.color ? ['grey'] : [] },
      ...(opts.colWidths ? { colWidths: [...opts.colWidths] } : {}),
      ...(opts.wordWrap !== undefined ? { wordWrap: opts.wordWrap } : {}),
      ...(wrap ? { wrapOnWordBoundary: true } : {}),
    });
  }

  get length(): number {
    return this.rows;
  }

  push(cells: readonly Cell[]): void {
    this.table.push(cells.map((c, i) => this.render(c, this.hardWrap?.[i])));
    this.rows++;
  }

  toString(): string {
    return this.table.toString();
  }

  private render(cell: Cell, width: number | undefined): string | number {
    if (typeof cell === 'number') return cell;
    const lines = typeof cell === 'string' ? [cell] : isPainted(cell) ? [cell.text] : cell;
    const escaped = lines.flatMap((l) => breakLine(escapeControls(l), width));
    if (isPainted(cell) && this.color) return escaped.map((l) => cell.style(l)).join('\n');
    return escaped.join('\n');
  }
}

/** Characters after which a long word is broken by preference. */
const SEPARATORS = new Set(['.', '_', '/', '\\', ':', '-', ',', ';', '=', '&', '?']);

/**
 * `line` with every word longer than `width` code points broken into pieces
 * of that length (each a line of its own); shorter words are left for the
 * table to wrap at whitespace. Whole when no width is given.
 */
function breakLine(line: string, width: number | undefined): string[] {
  if (width === undefined || line.length <= width) return [line];
  const out: string[] = [];
  let current = '';
  for (const token of line.split(/(\s+)/)) {
    const points = Array.from(token);
    if (points.length <= width) {
      current += token;
      continue;
    }
    // A long word: what came before stays on its line, the word goes in pieces.
    if (current.trim()) out.push(current.trimEnd());
    current = '';
    let i = 0;
    while (points.length - i > width) {
      // Break after a separator (rule ids, paths, addresses) when one is in the second half of the line.
      let cut = i + width;
      for (let j = i + width - 1; j > i + width / 2; j--)
        if (SEPARATORS.has(points[j]!)) {
          cut = j + 1;
          break;
        }
      out.push(points.slice(i, cut).join(''));
      i = cut;
    }
    current = points.slice(i).join('');
  }
  if (current) out.push(current);
  return out;
}

function isPainted(cell: string | readonly string[] | Painted): cell is Painted {
  return typeof cell === 'object' && !Array.isArray(cell);
}
