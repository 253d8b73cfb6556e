/** Helm-values helpers: path lookup and Helm's coalescing merge. */

/** A plain object (not an array, not null). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads a dotted path (`glooMeshMgmtServer.relay.disableCa`); undefined when any step is missing. */
export function getPath(values: unknown, path: string): unknown {
  let cur: unknown = values;
  for (const key of path.split('.')) {
    if (!isObject(cur)) return undefined;
    cur = cur[key];
  }
  return cur;
}

/**
 * Deep-merges `over` onto `base` as Helm coalesces user values onto chart defaults: maps merge
 * recursively, anything else replaces, and an explicit null deletes the default.
 */
export function coalesce(
  base: Record<string, unknown>,
  over: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === null) {
      delete out[key];
    } else if (isObject(value) && isObject(out[key])) {
      out[key] = coalesce(out[key], value);
    } else {
      out[key] = value;
    }
  }
  return out;
}

/**
 * Merges values files given in order (`helm -f a.yaml -f b.yaml`) as Helm does before it coalesces
 * them onto the chart defaults: maps merge recursively, anything else replaces, and an explicit null
 * is kept, so it still deletes the chart default afterwards.
 */
export function mergeValues(
  base: Record<string, unknown>,
  over: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isObject(value) && isObject(current) ? mergeValues(current, value) : value;
  }
  return out;
}

/** True only for a real boolean true or the string "true" (as `--set x=true` may give). */
export function isTrue(v: unknown): boolean {
  return v === true || v === 'true';
}

/** A non-empty string after trimming. */
export function isSet(v: unknown): v is string {
  return typeof v === 'string' && v.trim() !== '';
}
