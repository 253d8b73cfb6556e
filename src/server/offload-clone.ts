/**
 * Handing prepared reviews from the offload worker to the event loop. What JSON gives back exactly
 * (every release of the corpus) crosses as JSON text, which the event loop parses faster than it
 * rebuilds a structured clone. The rest goes by structured clone (postMessage), which recurses once
 * per level and gives out between 2,000 and 5,000 levels, while Helm reads values up to 10,000 levels
 * deep: every subtree that starts `CLONE_CUT_DEPTH` levels down is sent as JSON text beside the
 * message, with its path, and put back on the other side. JSON.parse does not recurse.
 */
import { isPlainMap, toJsonText } from '../engine/values.js';
import { setOwn } from '../helm/release-json.js';

/** Subtrees starting this deep travel as JSON text; real values never reach it (they stay below 40). */
export const CLONE_CUT_DEPTH = 500;

/** A subtree taken out of a message: where it was, and its JSON text. */
export interface Detached {
  path: Array<string | number>;
  json: string;
}

type Container = Record<string | number, unknown>;

/**
 * Replaces, in place, every container that starts `cut` levels below `root` with null and returns
 * them as JSON text with their paths. Iterative, so any depth is safe.
 */
export function detachDeep(root: unknown, cut = CLONE_CUT_DEPTH): Detached[] {
  const detached: Detached[] = [];
  if (typeof root !== 'object' || root === null) return detached;
  const stack: Array<[Container, Array<string | number>]> = [[root as Container, []]];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [node, path] = item;
    const keys: Array<string | number> = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
    for (const key of keys) {
      const child = node[key];
      if (typeof child !== 'object' || child === null) continue;
      if (path.length + 1 >= cut) {
        detached.push({ path: [...path, key], json: toJsonText(child) });
        setOwn(node, String(key), null);
      } else stack.push([child as Container, [...path, key]]);
    }
  }
  return detached;
}

/** Puts back, in place, what detachDeep took out. */
export function attachDeep(root: unknown, detached: readonly Detached[]): void {
  for (const { path, json } of detached) {
    let node = root as Container;
    for (const key of path.slice(0, -1)) node = node[key] as Container;
    setOwn(node, String(path[path.length - 1]), JSON.parse(json) as unknown);
  }
}

/** Depth up to which the native JSON.stringify is used; deeper data is written by toJsonText. */
const NATIVE_STRINGIFY_DEPTH = 500;

/**
 * How deep `root` nests when JSON gives it back exactly, else undefined: only null, booleans,
 * strings, finite numbers other than -0, arrays without holes or undefined, and plain objects (a
 * property whose value is undefined is left out, as reading it gives undefined either way).
 * Iterative, so any depth is safe.
 */
export function jsonExactDepth(root: unknown): number | undefined {
  let max = 0;
  // Two stacks side by side (a value, its depth): no pair allocated per value.
  const values: unknown[] = [root];
  const depths: number[] = [0];
  while (values.length > 0) {
    const v = values.pop();
    const depth = depths.pop() as number;
    if (v === null || typeof v === 'string' || typeof v === 'boolean') continue;
    if (typeof v === 'number') {
      if (!Number.isFinite(v) || Object.is(v, -0)) return undefined;
      continue;
    }
    if (typeof v !== 'object') return undefined;
    if (depth + 1 > max) max = depth + 1;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const x: unknown = v[i];
        if (x === undefined) return undefined;
        if (typeof x === 'string') continue;
        values.push(x);
        depths.push(depth + 1);
      }
      continue;
    }
    if (!isPlainMap(v)) return undefined;
    for (const x of Object.values(v)) {
      if (x === undefined || typeof x === 'string') continue;
      values.push(x);
      depths.push(depth + 1);
    }
  }
  return max;
}

/**
 * The JSON text that gives `root` back exactly (JSON.parse on the other side), or undefined when
 * JSON cannot (then the caller sends a structured clone). The event loop parses a large release's
 * values from text in about half the time it takes to rebuild them from a structured clone.
 */
export function exactJsonText(root: unknown): string | undefined {
  const depth = jsonExactDepth(root);
  if (depth === undefined) return undefined;
  return depth < NATIVE_STRINGIFY_DEPTH ? JSON.stringify(root) : toJsonText(root);
}
