/** The typed configuration shared by the webhook, the CLI and the chart's ConfigMap. */
import type { Action } from '../engine/types.js';
import type { RuleSpec } from '../rules/types.js';

/** enforce refuses denied violations; audit (dry-run) only reports them. */
export type Mode = 'enforce' | 'audit';

/** A scoped, optionally expiring exemption from one policy. */
export interface PolicyException {
  policy: string;
  namespace?: string;
  /** Release name or object name. */
  name?: string;
  reason: string;
  /** ISO date (YYYY-MM-DD); the exception stops applying after this day. */
  expires?: string;
}

/** Per-policy settings. */
export interface PolicySettings {
  action?: Action;
  options?: Record<string, unknown>;
}

/** The whole configuration. */
export interface Config {
  mode: Mode;
  onError: 'deny' | 'allow';
  namespaces: { management: string; addons: string };
  policies: Record<string, PolicySettings>;
  exceptions: PolicyException[];
  /** The user's own rules, in CEL (plain data; compiled where they run). */
  rules: RuleSpec[];
  limits: {
    /** Largest decompressed Helm release accepted, in bytes. */
    maxReleaseBytes: number;
  };
}

/** The defaults, used when no config file is given. */
export function defaultConfig(): Config {
  return {
    mode: 'enforce',
    onError: 'deny',
    namespaces: { management: 'gloo-mesh', addons: 'gloo-mesh-addons' },
    policies: {},
    exceptions: [],
    rules: [],
    limits: { maxReleaseBytes: 64 * 1024 * 1024 },
  };
}
