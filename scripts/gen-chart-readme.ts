// Generates the chart's documentation from its sources, so it cannot drift:
//   - charts/webhook/README.md from README.tmpl.md (hand-written prose), the `# --` comments of
//     values.yaml (descriptions), values.yaml (defaults), values.schema.json (types, allowed values)
//     and the policy catalog;
//   - the part of charts/webhook/values.schema.json for the values the chart writes into the config
//     file (mode, onError, namespaces, policies, exceptions, rules, limits) from the config's one
//     schema, src/config/schema.ts (whose `policies` follow src/policies).
//
//   npx tsx scripts/gen-chart-readme.ts           # write both files
//   npx tsx scripts/gen-chart-readme.ts --check   # exit 1 if either is out of date
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { isMap, isScalar, parseDocument, type Node, type Pair, type YAMLMap } from 'yaml';
import { configSchema } from '../src/config/schema.js';
import { POLICIES } from '../src/policies/index.js';
import { reachTemplate } from './gen-reach.js';
import { vapTemplate } from './gen-vap.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The chart folder. */
export const CHART_DIR = join(ROOT, 'charts', 'webhook');
const PLACEHOLDER = '<!-- values-table -->';
const POLICY_PLACEHOLDER = '<!-- policies-table -->';

/** One documented value: its dotted path, default and description. */
export interface ValueDoc {
  key: string;
  default: unknown;
  description: string;
}

type JsonSchema = {
  type?: string | string[];
  enum?: readonly unknown[];
  oneOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  additionalProperties?: boolean | JsonSchema;
  [k: string]: unknown;
};

function docOf(comment: string | null | undefined): string | undefined {
  if (!comment) return undefined;
  const lines = comment.split('\n').map((l) => l.replace(/^ ?/, ''));
  const start = lines.findLastIndex((l) => l.startsWith('-- '));
  if (start < 0) return undefined;
  return lines
    .slice(start)
    .map((l, i) => (i === 0 ? l.slice(3) : l).trim())
    .join(' ')
    .trim();
}

/**
 * Reads the documented values: a key with a `# --` comment is one entry (a map under it is shown
 * whole, as its default); a map without one is a section whose keys are read in turn. Throws on a
 * key that is neither, so every value is documented.
 */
export function readValuesDocs(text: string): ValueDoc[] {
  const doc = parseDocument(text);
  const out: ValueDoc[] = [];
  const walk = (map: YAMLMap, prefix: string): void => {
    map.items.forEach((pair: Pair, i: number) => {
      const keyNode = pair.key as Node;
      const key = `${prefix}${isScalar(keyNode) ? String(keyNode.value) : ''}`;
      const description = docOf(keyNode.commentBefore ?? (i === 0 ? map.commentBefore : undefined));
      const value = pair.value as Node | null;
      if (description !== undefined) {
        out.push({ key, default: value === null ? null : value.toJSON(), description });
      } else if (isMap(value) && value.items.length > 0) {
        walk(value, `${key}.`);
      } else {
        throw new Error(`values.yaml: ${key} has no "# --" description`);
      }
    });
  };
  if (!isMap(doc.contents)) throw new Error('values.yaml: not a mapping');
  walk(doc.contents, '');
  return out;
}

/** The schema node for a dotted path, if the schema describes it. */
export function schemaAt(schema: JsonSchema, key: string): JsonSchema | undefined {
  let node: JsonSchema | undefined = schema;
  for (const part of key.split('.')) node = node?.properties?.[part];
  return node;
}

function typeOf(node: JsonSchema | undefined, value: unknown): string {
  if (node?.enum) return node.enum.map((v) => (v === '' ? '""' : String(v))).join(', ');
  if (node?.oneOf) return node.oneOf.map((n) => typeOf(n, undefined)).join(' or ');
  if (node?.type) return Array.isArray(node.type) ? node.type.join(' or ') : node.type;
  if (Array.isArray(value)) return 'array';
  return value === null ? 'null' : typeof value;
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function defaultCell(value: unknown): string {
  const json = JSON.stringify(value);
  return json.length > 120 ? `see values.yaml` : `\`${cell(json)}\``;
}

/** The markdown table of every value. */
export function valuesTable(docs: readonly ValueDoc[], schema: JsonSchema): string {
  const rows = docs.map(
    (d) =>
      `| \`${d.key}\` | ${cell(typeOf(schemaAt(schema, d.key), d.default))} | ${defaultCell(d.default)} | ${cell(d.description)} |`,
  );
  return ['| Key | Type | Default | Description |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** The markdown table of the policies that `policies:` configures. */
export function policiesTable(): string {
  const rows = POLICIES.map((p) => {
    const options = Object.keys(p.options ?? {})
      .map((o) => `\`${o}\``)
      .join(', ');
    return `| \`${p.id}\` | \`${p.defaultAction}\` | ${cell(p.title)} | ${options || '-'} |`;
  });
  return [
    '| Policy id | Default action | Checks that | Options |',
    '| --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

/** The schema without the loader's message annotations, which only the loader reads. */
export function validationOnly(schema: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'errorMessage' || k === 'requiredMessage') continue;
    out[k] = k === 'properties' ? mapValues(v as Record<string, JsonSchema>) : sub(v);
  }
  return out;
}

const isSchema = (v: unknown): v is JsonSchema => typeof v === 'object' && v !== null && !Array.isArray(v);
const sub = (v: unknown): unknown => (isSchema(v) ? validationOnly(v) : v);
const mapValues = (props: Record<string, JsonSchema>): Record<string, JsonSchema> =>
  Object.fromEntries(Object.entries(props).map(([k, v]) => [k, validationOnly(v)]));

/**
 * The chart's values that templates/configmap.yaml writes into the config file get the config's
 * own schema (src/config/schema.ts), so `helm install` refuses what the server would refuse. The
 * template always writes both namespaces, so the chart also requires them (null would render "").
 */
export function withConfigSchema(schema: JsonSchema): JsonSchema {
  const config = configSchema();
  const out = structuredClone(schema);
  out.properties = { ...out.properties };
  for (const [key, schema] of Object.entries(config.properties ?? {})) {
    if (!out.properties[key])
      throw new Error(`values.schema.json: the config key ${key} is not a chart value`);
    const value = validationOnly(schema);
    out.properties[key] = key === 'namespaces' ? { ...value, required: ['management', 'addons'] } : value;
  }
  return out;
}

async function formatted(text: string, parser: 'json' | 'markdown', file: string): Promise<string> {
  const options = (await prettier.resolveConfig(file)) ?? {};
  return prettier.format(text, { ...options, parser });
}

/** The values.schema.json the catalog implies, formatted as prettier would. */
export async function expectedSchema(): Promise<string> {
  const file = join(CHART_DIR, 'values.schema.json');
  const schema = JSON.parse(readFileSync(file, 'utf8')) as JsonSchema;
  return formatted(JSON.stringify(withConfigSchema(schema), null, 2), 'json', file);
}

/** The README.md the template, values, schema and catalog imply. */
export async function expectedReadme(): Promise<string> {
  const template = readFileSync(join(CHART_DIR, 'README.tmpl.md'), 'utf8');
  const schema = JSON.parse(await expectedSchema()) as JsonSchema;
  const docs = readValuesDocs(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8'));
  if (!template.includes(PLACEHOLDER) || !template.includes(POLICY_PLACEHOLDER)) {
    throw new Error(`README.tmpl.md must contain ${PLACEHOLDER} and ${POLICY_PLACEHOLDER}`);
  }
  const banner =
    '<!-- Generated by scripts/gen-chart-readme.ts from README.tmpl.md, values.yaml, values.schema.json and ' +
    'src/policies. Do not edit: run `npm run docs:chart`. -->\n\n';
  return (
    banner +
    template
      .replace(PLACEHOLDER, () => valuesTable(docs, schema))
      .replace(POLICY_PLACEHOLDER, () => policiesTable())
  );
}

/** Writes (or with check, compares) both generated files; returns the paths that differ. */
export async function generate(check: boolean): Promise<string[]> {
  const targets: Array<[string, string]> = [
    [join(CHART_DIR, 'values.schema.json'), await expectedSchema()],
    [join(CHART_DIR, 'README.md'), await expectedReadme()],
    // The webhooks' matchConditions, from the policies' `match` (least reach).
    [join(CHART_DIR, 'templates', '_reach.tpl'), reachTemplate()],
    // The built-in object checks as ValidatingAdmissionPolicies, from src/rules/builtin.ts.
    [join(CHART_DIR, 'templates', 'validatingadmissionpolicies.yaml'), vapTemplate()],
  ];
  const drifted: string[] = [];
  for (const [file, want] of targets) {
    let have = '';
    try {
      have = readFileSync(file, 'utf8');
    } catch {
      // missing: drifted
    }
    if (have === want) continue;
    drifted.push(file);
    if (!check) writeFileSync(file, want);
  }
  return drifted;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  const drifted = await generate(check);
  for (const f of drifted) process.stdout.write(`${check ? 'out of date' : 'wrote'}: ${f}\n`);
  if (check && drifted.length > 0) {
    process.stderr.write('chart docs are out of date: run `npm run docs:chart`\n');
    process.exitCode = 1;
  }
}
