import type { ParseIssue } from '../../core/errors.ts';

/**
 * One event record. `event` has the JSON layout of the common EVTX dumpers
 * (evtx_dump of omerbenamram/evtx): `{ Event: { '#attributes', System, EventData | UserData } }`.
 */
export interface EvtxRecord {
  recordId: number;
  /** The record header's FILETIME as ISO-8601 UTC with all 7 fractional digits. */
  timestamp: string;
  /** Index of the 64 KiB chunk, counted from the first chunk after the file header. */
  chunk: number;
  /** File offset of the record header. */
  offset: number;
  event: Record<string, unknown>;
}

export type EvtxItem = { kind: 'record'; record: EvtxRecord } | { kind: 'issue'; issue: ParseIssue };

/*
 * The binary XML of a record is kept as a small tree of template nodes plus the
 * substitution values of its template instance, so a template parsed once per
 * chunk is shared by every record that uses it and nothing is copied per record.
 */

export const N_ELEMENT = 0;
export const N_TEXT = 1;
export const N_SUBST = 2;
export const N_CHARREF = 3;
export const N_ENTITY = 4;
export const N_CDATA = 5;
export const N_PI = 6;
export const N_INSTANCE = 7;

export interface XElement {
  k: typeof N_ELEMENT;
  name: string;
  attrs: XAttr[];
  children: XNode[];
}
export interface XAttr {
  name: string;
  value: XNode[];
}
export interface XText {
  k: typeof N_TEXT | typeof N_CDATA;
  text: string;
}
export interface XSubst {
  k: typeof N_SUBST;
  index: number;
  optional: boolean;
}
export interface XCharRef {
  k: typeof N_CHARREF;
  code: number;
}
export interface XEntity {
  k: typeof N_ENTITY;
  name: string;
}
export interface XPi {
  k: typeof N_PI;
  target: string;
  data: string;
}
/** A template instance (or a raw fragment): nodes plus the values their substitutions refer to. */
export interface XInstance {
  k: typeof N_INSTANCE;
  frag: Fragment;
}
export type XNode = XElement | XText | XSubst | XCharRef | XEntity | XPi | XInstance;

/** A substitution value: its EVTX value type and the decoded value (see values.ts). */
export interface SubValue {
  t: number;
  v: DecodedValue;
}
export type Scalar = string | number | boolean;
export type DecodedValue = null | Scalar | Scalar[] | Fragment;

export interface Fragment {
  nodes: XNode[];
  values: SubValue[];
}
