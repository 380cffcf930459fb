/**
 * The layering of DESIGN.md §3, checked on the import graph of src/ (every
 * `import`, `export … from` and `import()` of a relative `.ts` specifier,
 * type-only ones included: a type import is still a dependency of the layer).
 * Tests are left out: they may reach across layers to build their inputs.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(ROOT, 'src');

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) sourceFiles(p, out);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** `src/a/b.ts` → `a/b.ts`, with forward slashes whatever the platform. */
function name(file: string): string {
  return relative(SRC, file).split(sep).join('/');
}

interface Graph {
  edges: Map<string, string[]>;
  /** Relative specifiers that name no file. */
  unresolved: string[];
}

function importGraph(): Graph {
  const edges = new Map<string, string[]>();
  const unresolved: string[] = [];
  for (const file of sourceFiles(SRC).sort()) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = new Set<string>();
    for (const { fileName } of info.importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const target = resolve(dirname(file), fileName);
      if (!existsSync(target)) {
        unresolved.push(`${name(file)} → ${fileName}`);
        continue;
      }
      targets.add(name(target));
    }
    edges.set(name(file), [...targets].sort());
  }
  return { edges, unresolved };
}

/** Import cycles, each as a chain `a → b → … → a` (one per strongly connected component). */
function cycles(edges: ReadonlyMap<string, readonly string[]>): string[] {
  // Tarjan's algorithm, iterative so that deep graphs cannot overflow the stack.
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  for (const start of edges.keys()) {
    if (index.has(start)) continue;
    const work: { node: string; child: number }[] = [{ node: start, child: 0 }];
    index.set(start, next);
    low.set(start, next++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      const children = edges.get(top.node) ?? [];
      if (top.child < children.length) {
        const c = children[top.child++]!;
        if (!index.has(c)) {
          index.set(c, next);
          low.set(c, next++);
          stack.push(c);
          onStack.add(c);
          work.push({ node: c, child: 0 });
        } else if (onStack.has(c)) low.set(top.node, Math.min(low.get(top.node)!, index.get(c)!));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(top.node)!));
      if (low.get(top.node) === index.get(top.node)) {
        const component: string[] = [];
        for (;;) {
          const n = stack.pop()!;
          onStack.delete(n);
          component.push(n);
          if (n === top.node) break;
        }
        const selfLoop = component.length === 1 && (edges.get(top.node) ?? []).includes(top.node);
        if (component.length > 1 || selfLoop) components.push(component);
      }
    }
  }
  return components.map((c) => chainWithin(edges, new Set(c)));
}

/** One concrete cycle inside a strongly connected component, by breadth-first search back to its first member. */
function chainWithin(edges: ReadonlyMap<string, readonly string[]>, members: ReadonlySet<string>): string {
  const start = [...members].sort()[0]!;
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const n = queue.shift()!;
    for (const c of edges.get(n) ?? []) {
      if (!members.has(c)) continue;
      if (c === start) {
        const chain = [start];
        for (let at = n; at !== start; at = previous.get(at)!) chain.unshift(at);
        chain.unshift(start);
        return chain.join(' → ');
      }
      if (!previous.has(c)) {
        previous.set(c, n);
        queue.push(c);
      }
    }
  }
  return [...members].join(' → ');
}

/** The layer of a module: its first folder under src/. */
function layer(module: string): string {
  const slash = module.indexOf('/');
  return slash < 0 ? module : module.slice(0, slash);
}

/**
 * Layer → the layers of ours it must never import (DESIGN.md §3: dependencies
 * point down). intel/ and ml/ serve every layer, so they sit just above core.
 */
const FORBIDDEN: Record<string, readonly string[] | 'all-but-itself'> = {
  core: 'all-but-itself',
  detect: ['sources', 'pipeline', 'cli', 'outputs'],
  sources: ['detect', 'pipeline', 'cli'],
  intel: ['detect', 'sources', 'pipeline', 'cli', 'outputs'],
  ml: ['detect', 'sources', 'pipeline', 'cli', 'outputs'],
};

function layerViolations(edges: ReadonlyMap<string, readonly string[]>): string[] {
  const out: string[] = [];
  for (const [from, targets] of edges) {
    const rule = FORBIDDEN[layer(from)];
    if (!rule) continue;
    for (const to of targets) {
      const l = layer(to);
      if (l === layer(from)) continue;
      if (rule === 'all-but-itself' || rule.includes(l)) out.push(`${from} → ${to}`);
    }
  }
  return out;
}

const graph = importGraph();

test('every relative import names a file', () => {
  assert.ok(graph.edges.size > 50, `src/ has ${graph.edges.size} modules`);
  assert.deepEqual(graph.unresolved, []);
});

test('no import cycle in src/', () => {
  const found = cycles(graph.edges);
  assert.deepEqual(found, [], `import cycles:\n  ${found.join('\n  ')}`);
});

test('layers import only downwards: core nothing of ours; detect no sources/pipeline/cli/outputs; sources no detect/pipeline/cli; intel and ml none of those', () => {
  const found = layerViolations(graph.edges);
  assert.deepEqual(found, [], `imports against the layering:\n  ${found.join('\n  ')}`);
});

test('the checks themselves catch a cycle and a layer violation', () => {
  const edges = new Map([
    ['core/a.ts', ['detect/b.ts']],
    ['detect/b.ts', ['sources/c.ts']],
    ['sources/c.ts', ['core/a.ts']],
    ['pipeline/d.ts', ['pipeline/d.ts']],
  ]);
  assert.deepEqual(cycles(edges).sort(), [
    'core/a.ts → detect/b.ts → sources/c.ts → core/a.ts',
    'pipeline/d.ts → pipeline/d.ts',
  ]);
  assert.deepEqual(layerViolations(edges), ['core/a.ts → detect/b.ts', 'detect/b.ts → sources/c.ts']);
});
