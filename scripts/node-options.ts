/**
 * The Node.js options the chart gives the webhook process (`nodeOptions` in charts/webhook/values.yaml,
 * set as NODE_OPTIONS), as arguments for `node`: the bench and the e2e runs start the server as the
 * chart does, so what they measure is what a cluster runs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const VALUES = join(import.meta.dirname, '..', 'charts', 'webhook', 'values.yaml');

/** The chart's default `nodeOptions`, split into `node` arguments (none when it is empty). */
export function chartNodeArgs(): string[] {
  const values = parse(readFileSync(VALUES, 'utf8')) as { nodeOptions?: unknown };
  const options = values.nodeOptions ?? '';
  if (typeof options !== 'string') throw new Error(`${VALUES}: nodeOptions must be a string`);
  return options.split(/\s+/).filter(Boolean);
}
