/**
 * The `rules:` section of the config: each rule is read, checked and its CEL compiled when the config
 * loads, so that a broken rule is an error naming the rule and the line, never a surprise at admission.
 */
import { isMap, isScalar, isSeq, Scalar, type Node, type YAMLMap } from 'yaml';
import type { ChartFamily, Severity, SubjectKind } from '../engine/types.js';
import { CelCompileError, compileCel } from '../rules/cel.js';
import type { RuleMatch, RuleSpec } from '../rules/types.js';

/** How the loader reports a problem at a node (it prefixes the file and line). */
export interface RuleReader {
  fail(node: Node | null | undefined, msg: string): void;
  /** Reports a problem at a config line (a line inside a multi-line expression). */
  failAt(line: number, msg: string): void;
  /** The config line where a node starts. */
  lineOf(node: Node | null | undefined): number | undefined;
  /** Ids that rules may not take. */
  builtinIds: ReadonlySet<string>;
}

const KEYS = [
  'id',
  'title',
  'severity',
  'action',
  'appliesTo',
  'match',
  'expression',
  'message',
  'messageExpression',
  'path',
  'remediation',
  'description',
  'costBudget',
] as const;
const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low'];
const KINDS: readonly SubjectKind[] = ['release', 'namespace', 'deployment', 'service'];
const FAMILIES: readonly ChartFamily[] = ['gloo-mesh-enterprise', 'gloo-mesh-agent', 'gloo-platform'];
const MATCH_KEYS = ['families', 'versions', 'namespaces', 'names'] as const;
const KEBAB = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

type Pairs = Array<[string, Node | null, Node]>;

function pairs(r: RuleReader, node: Node | null, path: string): Pairs {
  if (!isMap(node)) {
    r.fail(node, `${path} must be a mapping`);
    return [];
  }
  return (node as YAMLMap<Node, Node | null>).items.map((p) => [
    isScalar(p.key) ? String(p.key.value) : '',
    p.value,
    p.key,
  ]);
}

function text(
  r: RuleReader,
  node: Node | null,
  path: string,
  allowed?: readonly string[],
): string | undefined {
  if (!isScalar(node) || typeof node.value !== 'string' || node.value.trim() === '') {
    r.fail(node, `${path} must be a non-empty string`);
    return undefined;
  }
  if (allowed && !allowed.includes(node.value)) {
    r.fail(node, `${path} must be one of ${allowed.join(', ')}, not "${node.value}"`);
    return undefined;
  }
  return node.value;
}

function textList(r: RuleReader, node: Node | null, path: string, allowed?: readonly string[]): string[] {
  if (!isSeq(node) || node.items.length === 0) {
    r.fail(node, `${path} must be a non-empty list`);
    return [];
  }
  return node.items.flatMap((n, i) => text(r, n as Node, `${path}[${i}]`, allowed) ?? []);
}

/** Compiles one CEL field; a problem names the rule, the field and the config line of the CEL line. */
function cel(r: RuleReader, node: Node | null, path: string): string | undefined {
  const source = text(r, node, path);
  if (source === undefined) return undefined;
  try {
    compileCel(source);
    return source;
  } catch (err: unknown) {
    if (!(err instanceof CelCompileError)) throw err;
    const start = r.lineOf(node) ?? 0;
    // A block scalar (`|`, `>`) starts on the line after its indicator.
    const block = node instanceof Scalar && (node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED');
    const line = start + (block ? 1 : 0) + err.line - 1;
    r.failAt(line, `${path}: ${err.message} (column ${err.column})`);
    return undefined;
  }
}

function readMatch(r: RuleReader, node: Node | null, path: string): RuleMatch {
  const m: RuleMatch = {};
  for (const [k, v, kn] of pairs(r, node, path)) {
    if (k === 'families') m.families = textList(r, v, `${path}.families`, FAMILIES) as ChartFamily[];
    else if (k === 'namespaces') m.namespaces = textList(r, v, `${path}.namespaces`);
    else if (k === 'names') m.names = textList(r, v, `${path}.names`);
    else if (k === 'versions') {
      const range = text(r, v, `${path}.versions`);
      if (range !== undefined && !/^(\s*(>=|<=|>|<|=)?v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?\s*)+$/.test(range))
        r.fail(v, `${path}.versions must be comparators such as ">=2.4.0 <2.7.0", not "${range}"`);
      else if (range !== undefined) m.versions = range;
    } else r.fail(kn, `unknown key "${path}.${k}" (known: ${MATCH_KEYS.join(', ')})`);
  }
  return m;
}

function readField(r: RuleReader, rule: Partial<RuleSpec>, k: string, v: Node | null, path: string): void {
  switch (k) {
    case 'severity':
      rule.severity = text(r, v, `${path}.severity`, SEVERITIES) as Severity | undefined;
      return;
    case 'action':
      rule.action = text(r, v, `${path}.action`, ['deny', 'warn', 'off']) as RuleSpec['action'] | undefined;
      return;
    case 'appliesTo':
      rule.appliesTo = textList(r, v, `${path}.appliesTo`, KINDS) as SubjectKind[];
      return;
    case 'match':
      rule.match = readMatch(r, v, `${path}.match`);
      return;
    case 'expression':
    case 'messageExpression':
      rule[k] = cel(r, v, `${path}.${k}`);
      return;
    case 'costBudget': {
      const n = isScalar(v) ? v.value : undefined;
      if (typeof n === 'number' && Number.isInteger(n) && n > 0) rule.costBudget = n;
      else r.fail(v, `${path}.costBudget must be a positive whole number`);
      return;
    }
    default:
      (rule as Record<string, string | undefined>)[k] = text(r, v, `${path}.${k}`);
  }
}

const REQUIRED = ['id', 'title', 'severity', 'appliesTo', 'expression', 'remediation'] as const;

function checkId(r: RuleReader, id: string, idNode: Node | undefined, path: string, seen: Set<string>): void {
  if (!KEBAB.test(id)) r.fail(idNode, `${path}.id must be kebab-case (a-z, 0-9, -)`);
  else if (r.builtinIds.has(id)) r.fail(idNode, `${path}.id "${id}" is a built-in policy id`);
  else if (seen.has(id)) r.fail(idNode, `${path}.id "${id}" is used by another rule`);
  seen.add(id);
}

function readRule(r: RuleReader, node: Node, i: number, seen: Set<string>): RuleSpec | undefined {
  const idNode = isMap(node) ? (node.get('id', true) as Node | undefined) : undefined;
  const id = isScalar(idNode) ? String(idNode.value) : '';
  const path = `rules[${i}]${id ? ` (${id})` : ''}`;
  const rule: Partial<RuleSpec> = { action: 'deny' };
  for (const [k, v, kn] of pairs(r, node, path)) {
    if ((KEYS as readonly string[]).includes(k)) readField(r, rule, k, v, path);
    else r.fail(kn, `unknown key "${path}.${k}" (known: ${KEYS.join(', ')})`);
  }
  if (rule.id !== undefined) checkId(r, rule.id, idNode, path, seen);
  const missing = REQUIRED.filter((k) => !(isMap(node) && node.has(k)));
  for (const k of missing) r.fail(node, `${path}.${k} is required`);
  // A rule with any problem was reported above; the config load fails as a whole.
  return REQUIRED.every((k) => rule[k] !== undefined) ? (rule as RuleSpec) : undefined;
}

/** Reads `rules:`: every problem is reported through the reader; only sound rules are returned. */
export function readRules(r: RuleReader, node: Node | null): RuleSpec[] {
  if (node === null) return [];
  if (!isSeq(node)) {
    r.fail(node, 'rules must be a list');
    return [];
  }
  const seen = new Set<string>();
  return node.items.flatMap((item, i) => readRule(r, item as Node, i, seen) ?? []);
}
