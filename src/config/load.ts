/**
 * Reads a config file and validates it with its JSON Schema (src/config/schema.ts, through ajv),
 * with errors that name the file, the line and the key. What a schema cannot see (ids that name
 * rules, CEL that compiles) is checked here and in rules.ts.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { LineCounter, parseDocument, isMap, isScalar, type Document, type Node } from 'yaml';
import { POLICIES, policyById } from '../policies/index.js';
import { checkRules, toRuleSpecs, type RuleReader } from './rules.js';
import { configSchema, type JsonSchema } from './schema.js';
import { defaultConfig, type Config, type PolicyException, type PolicySettings } from './types.js';

/** A config that cannot be used; the message names the file, line and problem. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Whether `text` is YYYY-MM-DD naming a day that exists: 2030-13-01 and 2030-02-30 match the pattern
 * but are no day, and an exception whose end cannot be known must not apply.
 */
export function isCalendarDate(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const day = new Date(Date.UTC(y, mo - 1, d));
  return day.getUTCFullYear() === y && day.getUTCMonth() === mo - 1 && day.getUTCDate() === d;
}

let compiled: ValidateFunction | undefined;

/** The schema compiled once, on first use (compiling costs a few ms that `--help` need not pay). */
function validator(): ValidateFunction {
  if (compiled) return compiled;
  const ajv = new Ajv({ allErrors: true, verbose: true });
  // Our annotations: they only shape the messages below.
  ajv.addKeyword({ keyword: 'errorMessage', schemaType: 'string' });
  ajv.addKeyword({ keyword: 'requiredMessage', schemaType: 'string' });
  // What Helm's validators check for `format: date` (Go's time.Parse): a day that exists.
  ajv.addFormat('date', isCalendarDate);
  compiled = ajv.compile(configSchema());
  return compiled;
}

type Path = Array<string | number>;

interface Problem {
  line: number | undefined;
  text: string;
  /** The JSON pointer of the value or key the problem is about, to drop knock-on problems. */
  pointer: string;
}

interface Ctx {
  file: string;
  lc: LineCounter;
  doc: Document;
  data: unknown;
  problems: Problem[];
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const pointerOf = (path: Path): string =>
  path.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');

function pathOf(pointer: string): Path {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** `exceptions[0].reason`; a list item with an id is named by it: `rules[0] (relay-internal-dns)`. */
function label(data: unknown, path: Readonly<Path>): string {
  let out = '';
  let at: unknown = data;
  for (const seg of path) {
    if (Array.isArray(at)) {
      at = at[Number(seg)];
      const id = isRecord(at) ? at.id : undefined;
      out += `[${seg}]${typeof id === 'string' || typeof id === 'number' ? ` (${id})` : ''}`;
    } else {
      at = isRecord(at) ? at[String(seg)] : undefined;
      out += `${out ? '.' : ''}${seg}`;
    }
  }
  return out;
}

function nodeAt(ctx: Ctx, path: Readonly<Path>): Node | undefined {
  if (path.length === 0) return ctx.doc.contents ?? undefined;
  return ctx.doc.getIn(path, true) as Node | undefined;
}

/** The key node of `key` in the map at `path`: an unknown key is reported where it is written. */
function keyNodeAt(ctx: Ctx, path: Readonly<Path>, key: string): Node | undefined {
  const map = nodeAt(ctx, path);
  if (!isMap(map)) return map;
  const pair = map.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
  return (pair?.key as Node | undefined) ?? map;
}

function lineOf(ctx: Ctx, node: Node | undefined): number | undefined {
  const offset = node?.range?.[0];
  return offset === undefined ? undefined : ctx.lc.linePos(offset).line;
}

function report(ctx: Ctx, node: Node | undefined, pointer: string, text: string): void {
  ctx.problems.push({ line: lineOf(ctx, node), text, pointer });
}

/** What a value of the schema's type is called in a message. */
function typeText(schema: JsonSchema): string {
  const t = [schema.type ?? []].flat()[0];
  if (t === 'object') return 'must be a mapping';
  if (t === 'array') return (schema.minItems ?? 0) > 0 ? 'must be a non-empty list' : 'must be a list';
  if (t === 'string') return (schema.minLength ?? 0) > 0 ? 'must be a non-empty string' : 'must be a string';
  if (t === 'integer') return 'must be a whole number';
  return `must be a ${t ?? 'value'}`;
}

function valueMessage(e: ErrorObject, path: string): string {
  const schema = (e.parentSchema ?? {}) as JsonSchema;
  const value = JSON.stringify(e.data) ?? 'nothing';
  if (schema.errorMessage) return schema.errorMessage.replace('{path}', path).replace('{value}', value);
  if (schema.enum) return `${path} must be one of ${schema.enum.join(', ')}, not ${value}`;
  if (e.keyword === 'type') return `${path} ${typeText(schema)}`;
  if (e.keyword === 'minItems') return `${path} must be a non-empty list`;
  if (e.keyword === 'minLength') return `${path} must be a non-empty string`;
  return `${path} ${e.message ?? 'is not valid'}`;
}

/** One schema error as the user reads it, at the line of the key or value it is about. */
function schemaProblem(ctx: Ctx, e: ErrorObject): void {
  const path = pathOf(e.instancePath);
  const schema = (e.parentSchema ?? {}) as JsonSchema;
  if (e.keyword === 'additionalProperties') {
    const key = String((e.params as { additionalProperty: string }).additionalProperty);
    const known = Object.keys(schema.properties ?? {}).join(', ');
    const text = `unknown key "${label(ctx.data, [...path, key])}" (known: ${known})`;
    report(ctx, keyNodeAt(ctx, path, key), pointerOf([...path, key]), text);
  } else if (e.keyword === 'required') {
    const key = String((e.params as { missingProperty: string }).missingProperty);
    const hint = schema.properties?.[key]?.requiredMessage;
    const text = `${label(ctx.data, [...path, key])} is required${hint ? `: ${hint}` : ''}`;
    report(ctx, nodeAt(ctx, path), pointerOf([...path, key]), text);
  } else {
    const text = valueMessage(e, path.length ? label(ctx.data, path) : 'the config');
    report(ctx, nodeAt(ctx, path), e.instancePath, text);
  }
}

function ruleIds(data: Record<string, unknown>): Set<string> {
  const rules = Array.isArray(data.rules) ? (data.rules as unknown[]) : [];
  return new Set(rules.flatMap((r) => (isRecord(r) && typeof r.id === 'string' ? [r.id] : [])));
}

/** Policies and exceptions may name built-in policies and the config's own rules, nothing else. */
function checkIds(ctx: Ctx, data: Record<string, unknown>): void {
  const rules = ruleIds(data);
  const known = (id: string): boolean => policyById(id) !== undefined || rules.has(id);
  if (isRecord(data.policies)) {
    for (const id of Object.keys(data.policies).filter((k) => !known(k))) {
      const text = `unknown policy id "${id}" (run \`gloo-guard policies\` for the list)`;
      // What the schema said about its settings is beside the point: the id is the mistake.
      const pointer = pointerOf(['policies', id]);
      ctx.problems = ctx.problems.filter((p) => !p.pointer.startsWith(`${pointer}/`));
      report(ctx, keyNodeAt(ctx, ['policies'], id), pointer, text);
    }
  }
  if (!Array.isArray(data.exceptions)) return;
  data.exceptions.forEach((ex: unknown, i) => {
    const id = isRecord(ex) ? ex.policy : undefined;
    if (typeof id !== 'string' || id === '' || known(id)) return;
    const text = `exceptions[${i}].policy: unknown policy id "${id}"`;
    report(ctx, nodeAt(ctx, ['exceptions', i]), pointerOf(['exceptions', i, 'policy']), text);
  });
}

function ruleReader(ctx: Ctx): RuleReader {
  return {
    nodeAt: (path) => nodeAt(ctx, path),
    lineOf: (node) => lineOf(ctx, node),
    failAt: (line, text) => ctx.problems.push({ line, text, pointer: '' }),
    label: (path) => label(ctx.data, path),
    builtinIds: new Set(POLICIES.map((p) => p.id)),
  };
}

/** YAML 1.1 files (`%YAML 1.1`) read an unquoted date as a timestamp: the config keeps the day. */
function datesAsDays(data: unknown): void {
  if (!isRecord(data) || !Array.isArray(data.exceptions)) return;
  for (const ex of data.exceptions as unknown[]) {
    if (isRecord(ex) && ex.expires instanceof Date) ex.expires = ex.expires.toISOString().slice(0, 10);
  }
}

/** The validated data as a Config: what the file leaves out keeps its default. */
function toConfig(data: Record<string, unknown>): Config {
  const d = defaultConfig();
  return {
    mode: (data.mode as Config['mode'] | undefined) ?? d.mode,
    onError: (data.onError as Config['onError'] | undefined) ?? d.onError,
    namespaces: { ...d.namespaces, ...(data.namespaces as Partial<Config['namespaces']> | undefined) },
    policies: (data.policies as Record<string, PolicySettings> | undefined) ?? {},
    exceptions: (data.exceptions as PolicyException[] | undefined) ?? [],
    rules: toRuleSpecs(data.rules),
    limits: { ...d.limits, ...(data.limits as Partial<Config['limits']> | undefined) },
  };
}

function fail(ctx: Ctx): never {
  const lines = ctx.problems
    .map((p, i) => ({ ...p, i }))
    .sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || a.i - b.i)
    .map((p) => `${ctx.file}${p.line === undefined ? '' : `:${p.line}`}: ${p.text}`);
  throw new ConfigError([...new Set(lines)].join('\n'));
}

/** Parses config text; throws ConfigError listing every problem with its line. */
export function parseConfig(text: string, file = 'config'): Config {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  // The first syntax error only: the parser reports the knock-on errors of one mistake too.
  const first = doc.errors[0];
  if (first) {
    const line = lc.linePos(first.pos[0]).line;
    throw new ConfigError(`${file}:${line}: not valid YAML: ${first.message.split('\n')[0] ?? ''}`);
  }
  if (doc.contents === null) return defaultConfig();
  let data: unknown;
  try {
    data = doc.toJS();
  } catch (err: unknown) {
    // An alias bomb: the parser stops at its limit rather than expanding it.
    throw new ConfigError(`${file}: not valid YAML: ${(err as Error).message}`);
  }
  datesAsDays(data);
  const ctx: Ctx = { file, lc, doc, data, problems: [] };
  const validate = validator();
  if (!validate(data)) {
    // One problem per key or value: a value of the wrong type fails its other keywords too.
    const seen = new Set<string>();
    for (const e of validate.errors ?? []) {
      const before = ctx.problems.length;
      schemaProblem(ctx, e);
      const p = ctx.problems[before];
      if (p && seen.has(p.pointer)) ctx.problems.pop();
      else if (p) seen.add(p.pointer);
    }
  }
  if (!isRecord(data)) fail(ctx);
  checkIds(ctx, data);
  checkRules(ruleReader(ctx), data.rules);
  if (ctx.problems.length) fail(ctx);
  return toConfig(data);
}

/** Reads a config file; a missing or unreadable file is a ConfigError naming it. */
export function loadConfig(file: string): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err: unknown) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError(`${file}: cannot read config file (${code})`);
  }
  return parseConfig(text, file);
}
