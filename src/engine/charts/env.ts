/** Environment variables as the charts take them: values `extraEnvs` (a map or a list) and container `env`. */
import { isObject } from '../values.js';

/** One environment variable of `extraEnvs` (a map of NAME: {value|valueFrom}) or a container `env` list. */
export interface EnvEntry {
  name: string;
  value: unknown;
  /** The value is inline (`value`), not a reference (`valueFrom`). */
  inline: boolean;
  path: string;
}

/**
 * The environment variables a values `extraEnvs` (map or list) or a container's `env` sets; with
 * `wanted`, only those it names (a Deployment's env has many variables and a policy reads a few).
 */
export function envEntries(env: unknown, path: string, wanted?: (name: string) => boolean): EnvEntry[] {
  if (Array.isArray(env)) {
    return env.flatMap((e: unknown, i) =>
      isObject(e) && typeof e.name === 'string' && (wanted?.(e.name) ?? true)
        ? [{ name: e.name, value: e.value, inline: 'value' in e, path: `${path}[${i}].value` }]
        : [],
    );
  }
  if (!isObject(env)) return [];
  return Object.entries(env).flatMap(([name, e]) => {
    if (!(wanted?.(name) ?? true)) return [];
    return isObject(e)
      ? [{ name, value: e.value, inline: 'value' in e, path: `${path}.${name}.value` }]
      : [{ name, value: e, inline: true, path: `${path}.${name}` }];
  });
}
