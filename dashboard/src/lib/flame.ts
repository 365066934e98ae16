import type { Edges } from './profile';

/** A flame-graph node: `value` is its inclusive weight (µs for call edges, samples for stacks). */
export interface FlameNode {
  name: string;
  value: number;
  children: FlameNode[];
}

const MAX_DEPTH = 64;

/** Folded stacks ("main;a;b" × n) merged into a tree, as Brendan Gregg's flamegraph.pl does. */
export function treeFromFolded(stacks: readonly [string[], number][]): FlameNode {
  const root: FlameNode = { name: 'all', value: 0, children: [] };
  for (const [frames, n] of stacks) {
    root.value += n;
    let node = root;
    for (const f of frames.slice(0, MAX_DEPTH)) {
      let child = node.children.find((c) => c.name === f);
      if (!child) node.children.push((child = { name: f, value: 0, children: [] }));
      child.value += n;
      node = child;
    }
  }
  return sortTree(root);
}

/**
 * XHProf keeps one edge per (parent, child) pair, not whole stacks, so the tree is rebuilt from
 * the root: a function reached along several paths has its children shared out in proportion to
 * the time of this path (the usual approximation of XHProf call-graph viewers). Recursion is cut.
 */
export function treeFromEdges(edges: Edges): FlameNode | null {
  const roots = edges.get('') ?? new Map();
  const rootName = roots.has('main()') ? 'main()' : ([...roots.keys()][0] ?? (edges.has('main()') ? 'main()' : null));
  if (rootName === null) return null;
  const inclusive = new Map<string, number>();
  for (const children of edges.values()) for (const [c, e] of children) inclusive.set(c, (inclusive.get(c) ?? 0) + e.wtUs);
  const total = roots.get(rootName)?.wtUs ?? inclusive.get(rootName) ?? 0;
  const build = (name: string, value: number, path: Set<string>, depth: number): FlameNode => {
    const node: FlameNode = { name, value, children: [] };
    if (depth >= MAX_DEPTH || value <= 0) return node;
    const scale = value / Math.max(value, inclusive.get(name) ?? value);
    for (const [child, e] of edges.get(name) ?? []) {
      if (path.has(child)) continue;
      const v = e.wtUs * scale;
      if (v < total * 0.001) continue; // under 0.1 % is not visible anyway
      path.add(child);
      node.children.push(build(child, v, path, depth + 1));
      path.delete(child);
    }
    return node;
  };
  return sortTree(build(rootName, total, new Set([rootName]), 0));
}

function sortTree(n: FlameNode): FlameNode {
  n.children.sort((a, b) => b.value - a.value);
  for (const c of n.children) sortTree(c);
  return n;
}

export interface FlameRect {
  name: string;
  value: number;
  depth: number;
  /** 0..1 of the root's width. */
  x: number;
  width: number;
  node: FlameNode;
}

/** Lays the tree out as rectangles (icicle: root on top), skipping those narrower than `minWidth`. */
export function layout(root: FlameNode, minWidth = 0.002): FlameRect[] {
  const out: FlameRect[] = [];
  const total = root.value || 1;
  const walk = (n: FlameNode, depth: number, x: number) => {
    const width = n.value / total;
    if (width < minWidth) return;
    out.push({ name: n.name, value: n.value, depth, x, width, node: n });
    let cx = x;
    for (const c of n.children) {
      walk(c, depth + 1, cx);
      cx += c.value / total;
    }
  };
  walk(root, 0, 0);
  return out;
}
