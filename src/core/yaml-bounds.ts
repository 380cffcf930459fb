import { type Document, isAlias, isCollection, isMap, isPair, isScalar, type Node } from 'yaml';

/**
 * Bounds a parsed YAML document before it is turned into JavaScript, in one
 * linear pass. Config and rule files can come from anyone, and the `yaml`
 * package's own guards are not linear: its `maxAliasCount` check walks the
 * whole document once per alias of a node that refers to itself
 * (`d: &d [*d, *d, …]`, 3 KB ran for minutes), and `uniqueKeys` compares
 * every key of a map with every other (90,000 keys in 900 KB took 94 s). So
 * callers parse with `uniqueKeys: false`, call this, and convert with
 * `toJS({ maxAliasCount: -1 })`, which is linear once the aliases are few.
 */
export interface YamlBounds {
  /** Alias nodes (`*x`) in one document. */
  readonly aliases: number;
  /** Values the document stands for once every alias is expanded (the "billion laughs" bound). */
  readonly expandedValues: number;
  /** Nesting of collections. */
  readonly depth: number;
  /** Refuse a map that names one key twice (config files: a repeated key is a mistake). */
  readonly uniqueKeys: boolean;
}

export const DEFAULT_YAML_BOUNDS: YamlBounds = {
  aliases: 100,
  expandedValues: 1_000_000,
  depth: 256,
  uniqueKeys: true,
};

/** Why a document was refused, and the offset in the text to show it at. */
export interface YamlRefusal {
  readonly message: string;
  readonly offset: number;
}

class Refused extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

const offsetOf = (node: unknown): number =>
  (node as { range?: [number, number, number] } | null)?.range?.[0] ?? 0;

/** The first reason to refuse `doc`, or undefined when it is within `bounds`. */
export function checkYamlBounds(
  doc: Document.Parsed,
  bounds: YamlBounds = DEFAULT_YAML_BOUNDS,
): YamlRefusal | undefined {
  // An alias refers to the last node before it that carries its anchor, in
  // document order; a node's anchor is in force for its own children, which
  // is how `&d [*d]` refers to itself.
  const anchors = new Map<string, Node>();
  const size = new Map<unknown, number>();
  const open = new Set<unknown>();
  let aliases = 0;
  let firstAlias = -1;

  const count = (node: unknown, depth: number): number => {
    if (node === null || node === undefined) return 1;
    if (isAlias(node)) {
      if (firstAlias < 0) firstAlias = offsetOf(node);
      if (++aliases > bounds.aliases)
        throw new Refused(`refused: more than ${bounds.aliases} YAML aliases`, offsetOf(node));
      const target = anchors.get(node.source);
      if (target === undefined)
        throw new Refused(`alias *${node.source} has no anchor &${node.source} before it`, offsetOf(node));
      if (open.has(target))
        throw new Refused(`alias *${node.source} refers to a value that contains it`, offsetOf(node));
      return size.get(target) ?? 1;
    }
    if (depth > bounds.depth)
      throw new Refused(`refused: YAML nested more than ${bounds.depth} deep`, offsetOf(node));
    const anchor = (node as { anchor?: string }).anchor;
    if (anchor) anchors.set(anchor, node as Node);
    let n = 1;
    if (isCollection(node)) {
      open.add(node);
      const seen = bounds.uniqueKeys && isMap(node) ? new Set<string>() : undefined;
      for (const item of node.items) {
        if (isPair(item)) {
          if (seen) {
            const key = item.key;
            if (key !== null && !isScalar(key))
              throw new Refused('a map key must be a plain value', offsetOf(key) || offsetOf(item.value));
            const text = key === null ? '' : String(key.value);
            if (seen.has(text))
              throw new Refused(`map key "${text.slice(0, 80)}" appears twice`, offsetOf(key));
            seen.add(text);
          }
          n += count(item.key, depth + 1) + count(item.value, depth + 1);
        } else n += count(item, depth + 1);
        if (n > bounds.expandedValues) break;
      }
      open.delete(node);
    }
    if (n > bounds.expandedValues)
      throw new Refused(
        `refused: too many YAML alias expansions (the document stands for more than ${bounds.expandedValues} values)`,
        firstAlias >= 0 ? firstAlias : offsetOf(node),
      );
    size.set(node, n);
    return n;
  };

  try {
    count(doc.contents, 0);
    return undefined;
  } catch (e) {
    if (e instanceof Refused) return { message: e.message, offset: e.offset };
    throw e;
  }
}
