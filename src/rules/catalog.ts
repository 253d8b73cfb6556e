/** The catalog the engine is handed: the built-in policies, then the config's rules. */
import type { Config } from '../config/types.js';
import type { Policy } from '../engine/types.js';
import { POLICIES } from '../policies/index.js';
import { rulePolicies } from './policy.js';

const cache = new WeakMap<Config['rules'], readonly Policy[]>();

/** Every policy a config enforces, built-ins first, in the order users see them. */
export function catalogOf(config: Pick<Config, 'rules'>): readonly Policy[] {
  let out = cache.get(config.rules);
  if (!out) {
    out = [...POLICIES, ...rulePolicies(config.rules)];
    cache.set(config.rules, out);
  }
  return out;
}
