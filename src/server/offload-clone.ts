/**
 * Handing deep values from the offload worker to the event loop. Structured clone (postMessage)
 * recurses once per level and gives out between 2,000 and 5,000 levels, while Helm reads values up
 * to 10,000 levels deep: every subtree that starts `CLONE_CUT_DEPTH` levels down is sent as JSON text
 * beside the message, with its path, and put back on the other side. JSON.parse does not recurse.
 */
import { toJsonText } from '../engine/values.js';
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
