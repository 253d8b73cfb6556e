/**
 * Chart defaults gloo-guard assumes when it judges a values file alone (no chart at hand), taken from
 * the newest catalog entry of each family (see catalog.ts for the per-version tables and sources).
 */
import type { ChartFamily } from '../types.js';
import { catalogFor } from './catalog.js';

const FAMILIES: readonly ChartFamily[] = ['gloo-mesh-enterprise', 'gloo-mesh-agent', 'gloo-platform'];

/** Defaults of each chart family at its newest catalogued version. */
export const CHART_DEFAULTS: Readonly<Record<ChartFamily, Record<string, unknown>>> = Object.fromEntries(
  FAMILIES.map((f) => [f, catalogFor(f, '').catalog.defaults]),
) as Record<ChartFamily, Record<string, unknown>>;
