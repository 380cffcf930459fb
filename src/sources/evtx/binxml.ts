import { utf16 } from './text.ts';
import {
  type Fragment,
  N_CDATA,
  N_CHARREF,
  N_ELEMENT,
  N_ENTITY,
  N_INSTANCE,
  N_PI,
  N_SUBST,
  N_TEXT,
  type SubValue,
  type XAttr,
  type XElement,
  type XNode,
} from './types.ts';
import { decodeValue, T, ValueError } from './values.ts';

/** A problem in the binary XML of one record; `offset` is chunk-relative. */
export class BinXmlError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/** What the binary XML of one chunk shares: its bytes, and the names and templates parsed so far. */
export interface ChunkContext {
  buf: Uint8Array;
  dv: DataView;
  names: Map<number, string>;
  templates: Map<number, XNode[] | null>;
}

export function newChunkContext(buf: Uint8Array): ChunkContext {
  return {
    buf,
    dv: new DataView(buf.buffer, buf.byteOffset, buf.byteLength),
    names: new Map(),
    templates: new Map(),
  };
}

const TOK_EOF = 0x00;
const TOK_OPEN = 0x01;
const TOK_CLOSE_START = 0x02;
const TOK_CLOSE_EMPTY = 0x03;
const TOK_END = 0x04;
const TOK_VALUE = 0x05;
const TOK_ATTR = 0x06;
const TOK_CDATA = 0x07;
const TOK_CHARREF = 0x08;
const TOK_ENTITY = 0x09;
const TOK_PI_TARGET = 0x0a;
const TOK_PI_DATA = 0x0b;
const TOK_TEMPLATE = 0x0c;
const TOK_SUBST = 0x0d;
const TOK_OPT_SUBST = 0x0e;
const TOK_FRAGMENT = 0x0f;
/** Bit 0x40 marks "has attributes" / "more data follows"; the token kind is the rest. */
const KIND_MASK = 0xbf;

/** Bounds on nesting so that crafted input cannot exhaust the stack. */
const MAX_ELEMENT_DEPTH = 96;
const MAX_FRAGMENT_DEPTH = 12;

/** Parses the binary XML fragment in [off, end) of a chunk (a record's event, or an embedded BinXml value). */
export function parseFragment(ctx: ChunkContext, off: number, end: number, depth = 0): Fragment {
  return new Reader(ctx, off, end, depth).fragment();
}

class Reader {
  private pos: number;
  private elementDepth = 0;

  constructor(
    private readonly ctx: ChunkContext,
    start: number,
    private readonly end: number,
    private readonly depth: number,
  ) {
    this.pos = start;
    if (depth > MAX_FRAGMENT_DEPTH) this.fail('EVTX_TOO_DEEP', 'binary XML nested too deeply');
    if (end > ctx.buf.length || start > end)
      this.fail('EVTX_BAD_BOUNDS', `fragment [${start}, ${end}) outside chunk`);
  }

  private fail(code: string, message: string, at = this.pos): never {
    throw new BinXmlError(code, message, at);
  }

  private need(n: number): void {
    if (this.pos + n > this.end) this.fail('EVTX_TRUNCATED_XML', 'binary XML runs past its end');
  }

  private u16(at: number): number {
    return this.ctx.dv.getUint16(at, true);
  }

  private u32(at: number): number {
    return this.ctx.dv.getUint32(at, true);
  }

  fragment(): Fragment {
    const nodes = this.nodesUntilEof();
    // A record is almost always one template instance: hand it back without a wrapper.
    if (nodes.length === 1 && nodes[0]!.k === N_INSTANCE) return nodes[0]!.frag;
    return { nodes, values: [] };
  }

  /** Top-level nodes of a fragment or template body, up to EOF or the end of the range. */
  private nodesUntilEof(): XNode[] {
    const buf = this.ctx.buf;
    const nodes: XNode[] = [];
    while (this.pos < this.end) {
      const tok = buf[this.pos]!;
      const kind = tok & KIND_MASK;
      if (tok === TOK_EOF) {
        this.pos++;
        break;
      }
      if (tok === TOK_FRAGMENT) {
        this.need(4);
        this.pos += 4;
      } else if (tok === TOK_TEMPLATE) nodes.push({ k: N_INSTANCE, frag: this.instance() });
      else if (kind === TOK_OPEN) nodes.push(this.element());
      else this.fail('EVTX_UNKNOWN_TOKEN', `unexpected token 0x${tok.toString(16)} at fragment level`);
    }
    if (nodes.length === 0) this.fail('EVTX_EMPTY_XML', 'binary XML fragment holds no element');
    return nodes;
  }

  private name(at: number): string {
    const cached = this.ctx.names.get(at);
    if (cached !== undefined) return cached;
    const buf = this.ctx.buf;
    if (at + 8 > buf.length) this.fail('EVTX_BAD_NAME', `name offset ${at} outside chunk`, at);
    const units = this.u16(at + 6);
    if (at + 8 + 2 * units > buf.length) this.fail('EVTX_BAD_NAME', `name at ${at} runs past the chunk`, at);
    const s = utf16(buf, at + 8, units);
    this.ctx.names.set(at, s);
    return s;
  }

  /** Reads a name reference; a name defined in place (offset == here) is skipped over. */
  private nameRef(): string {
    this.need(4);
    const at = this.u32(this.pos);
    this.pos += 4;
    const s = this.name(at);
    if (at === this.pos) {
      this.pos += 8 + 2 * s.length + 2;
      if (this.pos > this.end) this.fail('EVTX_TRUNCATED_XML', 'inline name runs past its end');
    }
    return s;
  }

  private element(): XElement {
    const p = this.pos;
    const buf = this.ctx.buf;
    const tok = buf[p]!;
    this.need(11);
    // Elements in templates carry a 2-byte dependency id before the size; elements of
    // embedded fragments may not. The name offset must point inside the chunk, which tells them apart.
    const withDependencyId = this.u32(p + 5) !== p + 9 && this.u32(p + 7) < buf.length;
    this.pos = withDependencyId ? p + 3 : p + 1;
    this.pos += 4; // data size: not needed, the element is walked token by token
    const name = this.nameRef();
    if (tok & 0x40) {
      this.need(4);
      this.pos += 4;
    }
    const attrs: XAttr[] = [];
    while (this.pos < this.end && (buf[this.pos]! & KIND_MASK) === TOK_ATTR) {
      this.pos++;
      const attrName = this.nameRef();
      attrs.push({ name: attrName, value: this.attrValue() });
    }
    this.need(1);
    const next = buf[this.pos]!;
    const el: XElement = { k: N_ELEMENT, name, attrs, children: [] };
    if (next === TOK_CLOSE_EMPTY) {
      this.pos++;
      return el;
    }
    if (next !== TOK_CLOSE_START)
      this.fail('EVTX_UNKNOWN_TOKEN', `unexpected token 0x${next.toString(16)} in <${name}>`);
    this.pos++;
    if (++this.elementDepth > MAX_ELEMENT_DEPTH) this.fail('EVTX_TOO_DEEP', 'elements nested too deeply');
    el.children = this.content(name);
    this.elementDepth--;
    return el;
  }

  private attrValue(): XNode[] {
    const buf = this.ctx.buf;
    const out: XNode[] = [];
    while (this.pos < this.end) {
      const kind = buf[this.pos]! & KIND_MASK;
      if (
        kind !== TOK_VALUE &&
        kind !== TOK_SUBST &&
        kind !== TOK_OPT_SUBST &&
        kind !== TOK_CHARREF &&
        kind !== TOK_ENTITY &&
        kind !== TOK_CDATA
      )
        break;
      out.push(this.item(kind));
    }
    return out;
  }

  private content(name: string): XNode[] {
    const buf = this.ctx.buf;
    const out: XNode[] = [];
    for (;;) {
      if (this.pos >= this.end) this.fail('EVTX_TRUNCATED_XML', `<${name}> not closed before the end`);
      const tok = buf[this.pos]!;
      const kind = tok & KIND_MASK;
      if (kind === TOK_END) {
        this.pos++;
        return out;
      }
      if (kind === TOK_OPEN) out.push(this.element());
      else if (tok === TOK_TEMPLATE) out.push({ k: N_INSTANCE, frag: this.instance() });
      else out.push(this.item(kind));
    }
  }

  /** One value-like token: text, substitution, character or entity reference, CDATA, processing instruction. */
  private item(kind: number): XNode {
    const buf = this.ctx.buf;
    const p = this.pos;
    switch (kind) {
      case TOK_VALUE: {
        this.need(4);
        const type = buf[p + 1]!;
        if (type !== T.STRING && type !== T.ANSI)
          this.fail('EVTX_BAD_VALUE', `value token of type 0x${type.toString(16)}`);
        const n = this.u16(p + 2);
        const bytes = type === T.STRING ? 2 * n : n;
        this.pos = p + 4;
        this.need(bytes);
        let text: string;
        if (type === T.STRING) text = utf16(buf, p + 4, n);
        else text = String.fromCharCode(...buf.subarray(p + 4, p + 4 + n));
        this.pos += bytes;
        return { k: N_TEXT, text };
      }
      case TOK_SUBST:
      case TOK_OPT_SUBST:
        this.need(4);
        this.pos += 4;
        return { k: N_SUBST, index: this.u16(p + 1), optional: kind === TOK_OPT_SUBST };
      case TOK_CHARREF:
        this.need(3);
        this.pos += 3;
        return { k: N_CHARREF, code: this.u16(p + 1) };
      case TOK_ENTITY:
        this.pos++;
        return { k: N_ENTITY, name: this.nameRef() };
      case TOK_CDATA: {
        this.need(3);
        const n = this.u16(p + 1);
        this.pos = p + 3;
        this.need(2 * n);
        this.pos += 2 * n;
        return { k: N_CDATA, text: utf16(buf, p + 3, n) };
      }
      case TOK_PI_TARGET: {
        this.pos++;
        const target = this.nameRef();
        let data = '';
        if (this.pos < this.end && buf[this.pos] === TOK_PI_DATA) {
          this.pos++;
          this.need(2);
          const n = this.u16(this.pos);
          this.pos += 2;
          this.need(2 * n);
          data = utf16(buf, this.pos, n);
          this.pos += 2 * n;
        }
        return { k: N_PI, target, data };
      }
      default:
        return this.fail('EVTX_UNKNOWN_TOKEN', `unexpected token 0x${buf[p]!.toString(16)}`);
    }
  }

  private instance(): Fragment {
    const p = this.pos;
    this.need(10);
    const defOff = this.u32(p + 6);
    this.pos = p + 10;
    let nodes: XNode[];
    if (defOff === this.pos) {
      this.need(24);
      const size = this.u32(defOff + 20);
      nodes = this.template(defOff);
      this.pos = defOff + 24 + size;
      if (this.pos > this.end) this.fail('EVTX_TRUNCATED_XML', 'template definition runs past its end');
    } else nodes = this.template(defOff);
    return { nodes, values: this.values() };
  }

  /** Template bodies are parsed once per chunk and shared by every record that references them. */
  private template(defOff: number): XNode[] {
    const templates = this.ctx.templates;
    const cached = templates.get(defOff);
    if (cached) return cached;
    if (cached === null) this.fail('EVTX_BAD_TEMPLATE', `template at ${defOff} refers to itself`, defOff);
    const buf = this.ctx.buf;
    if (defOff + 24 > buf.length)
      this.fail('EVTX_BAD_TEMPLATE', `template offset ${defOff} outside chunk`, defOff);
    const size = this.u32(defOff + 20);
    const end = defOff + 24 + size;
    if (end > buf.length) this.fail('EVTX_BAD_TEMPLATE', `template at ${defOff} runs past the chunk`, defOff);
    templates.set(defOff, null);
    try {
      const nodes = new Reader(this.ctx, defOff + 24, end, this.depth + 1).nodesUntilEof();
      templates.set(defOff, nodes);
      return nodes;
    } catch (e) {
      templates.delete(defOff);
      throw e;
    }
  }

  private values(): SubValue[] {
    this.need(4);
    const count = this.u32(this.pos);
    this.pos += 4;
    if (count * 4 > this.end - this.pos)
      this.fail('EVTX_BAD_SUBSTITUTIONS', `${count} substitution values cannot fit in the record`);
    const ctx = this.ctx;
    const desc = this.pos;
    this.pos += 4 * count;
    const values: SubValue[] = new Array(count);
    const nested = (off: number, end: number) => parseFragment(ctx, off, end, this.depth + 1);
    for (let i = 0; i < count; i++) {
      const size = this.u16(desc + 4 * i);
      const type = ctx.buf[desc + 4 * i + 2]!;
      if (this.pos + size > this.end)
        this.fail('EVTX_BAD_SUBSTITUTIONS', `substitution ${i} runs past the record`);
      try {
        values[i] = decodeValue(ctx.buf, ctx.dv, type, this.pos, size, nested);
      } catch (e) {
        if (e instanceof ValueError) this.fail('EVTX_BAD_VALUE', `substitution ${i}: ${e.message}`);
        throw e;
      }
      this.pos += size;
    }
    return values;
  }
}
