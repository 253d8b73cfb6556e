/**
 * Values YAML read as Helm reads it: `sigs.k8s.io/yaml` over go-yaml v2 (YAML 1.1), then JSON. The
 * `yaml` package parses the syntax; the values are resolved here by go-yaml v2's rules (resolve.go,
 * decode.go), because its defaults differ in ways a policy can feel: `0o17` is 15, `1:20` and
 * timestamps stay strings, and a `<<` merge overrides the keys written before it.
 */
import { isAlias, isMap, isScalar, isSeq, type Document, type Node } from 'yaml';
import { GO_MAX_DEPTH } from '../helm/release-json.js';

/** A values document Helm would refuse, with why (no value is quoted: it may be a secret). */
export class HelmYamlError extends Error {
  override name = 'HelmYamlError';
}

const TAG = 'tag:yaml.org,2002:';
const BOOL_TRUE = ['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON'];
const BOOL_FALSE = ['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF'];
const NULLS = ['', '~', 'null', 'Null', 'NULL'];
const FLOAT_SPECIAL = ['.nan', '.NaN', '.NAN', '.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF'];
const FLOAT_SPECIAL_NEG = ['-.inf', '-.Inf', '-.INF'];
const RESOLVE_MAP = new Map<string, unknown>([
  ...BOOL_TRUE.map((s) => [s, true] as const),
  ...BOOL_FALSE.map((s) => [s, false] as const),
  ...NULLS.map((s) => [s, null] as const),
  ...FLOAT_SPECIAL.map((s) => [s, s.toLowerCase().includes('nan') ? NaN : Infinity] as const),
  ...FLOAT_SPECIAL_NEG.map((s) => [s, -Infinity] as const),
]);
const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** Go's `strconv.ParseInt(s, 0, 64)` (and ParseUint for the unsigned range); undefined on error. */
function goParseInt(s: string): number | undefined {
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (!m) return undefined;
  const [, sign = '', digits = ''] = m;
  const body = /^0[0-7]+$/.test(digits) ? `0o${digits.slice(1)}` : digits;
  const n = BigInt(body) * (sign === '-' ? -1n : 1n);
  if (n >= INT64_MIN && n <= INT64_MAX) return Number(n);
  return sign === '' && n <= UINT64_MAX ? Number(n) : undefined;
}

/** Go's `strconv.ParseFloat(s, 64)` on text that already matched go-yaml's float pattern. */
function goParseFloat(s: string): number | undefined {
  const n = Number(s);
  return Number.isNaN(n) ? undefined : n;
}

/** go-yaml v2 `resolve` of a plain scalar decoded into interface{} (timestamps stay strings). */
export function resolvePlain(text: string): unknown {
  const hint =
    text === ''
      ? 'N'
      : /[+-]/.test(text[0] ?? '')
        ? 'S'
        : /[0-9]/.test(text[0] ?? '')
          ? 'D'
          : /[yYnNtTfFoO~]/.test(text[0] ?? '')
            ? 'M'
            : text[0] === '.'
              ? '.'
              : '';
  if (hint === '') return text;
  if (RESOLVE_MAP.has(text)) return RESOLVE_MAP.get(text);
  if (hint === '.') return /^\.[0-9]/.test(text) ? (goParseFloat(text) ?? text) : text;
  if (hint === 'M' || hint === 'N') return text;
  const plain = text.replaceAll('_', '');
  const int = goParseInt(plain);
  if (int !== undefined) return int;
  if (YAML_STYLE_FLOAT.test(plain)) return goParseFloat(plain) ?? text;
  return text;
}

/**
 * A key JSON cannot hold (null, a list, a map). go-yaml v2 decodes it into a Go map, and
 * sigs.k8s.io/yaml refuses it only when converting the finished value to JSON: a map holding one is
 * fine if a later repeated key replaces that map. So it is kept as a unique symbol until the end.
 */
const BAD_KEY = 'a map key that is null, a list or a map cannot become a JSON key';

/** A Go map key as sigs.k8s.io/yaml turns it into a JSON key (a symbol: one it cannot). */
function keyString(k: unknown): string | symbol {
  if (typeof k === 'string') return k;
  if (typeof k === 'boolean') return String(k);
  if (typeof k === 'number') {
    if (Number.isInteger(k)) return String(k);
    if (!Number.isFinite(k)) return Number.isNaN(k) ? '.nan' : k > 0 ? '.inf' : '-.inf';
    return String(Math.fround(k));
  }
  return Symbol(BAD_KEY);
}

/** The members of a walked map, symbol keys included. */
function members(map: unknown): Array<[string | symbol, unknown]> {
  const o = map as Record<string | symbol, unknown>;
  return Reflect.ownKeys(o).map((k) => [k, o[k]]);
}

function checkTagged(tag: string, value: unknown): unknown {
  const ok =
    (tag === 'bool' && typeof value === 'boolean') ||
    (tag === 'null' && value === null) ||
    ((tag === 'int' || tag === 'float') && typeof value === 'number');
  if (!ok) throw new HelmYamlError(`a value tagged !!${tag} is not one`);
  return value;
}

interface Walk {
  doc: Document;
  /** Nodes left before an alias expansion counts as a bomb. */
  budget: number;
  /** Collections being walked, to refuse an alias inside the node it names (go-yaml: "contains itself"). */
  open: Set<unknown>;
}

function scalarValue(
  node: Node & { type?: string; source?: string; value?: unknown; tag?: string },
): unknown {
  // `source` is the scalar's text before any tag resolved it (the yaml package turns `!!int "3"`
  // into the number 3 itself; go-yaml v2 resolves the text "3" with the tag, and gets 3 too).
  const text = node.source ?? (typeof node.value === 'string' ? node.value : '');
  const tag = node.tag?.startsWith(TAG) ? node.tag.slice(TAG.length) : node.tag;
  if (tag === undefined) return node.type === 'PLAIN' ? resolvePlain(text) : text;
  if (tag === 'str' || tag === 'timestamp') return text;
  if (tag === 'binary') return Buffer.from(text.replace(/\s+/g, ''), 'base64').toString('latin1');
  if (tag === 'bool' || tag === 'int' || tag === 'float' || tag === 'null')
    return checkTagged(tag, resolvePlain(text));
  return text;
}

function isMergeKey(key: unknown): boolean {
  if (!isScalar(key)) return false;
  const k = key as { type?: string; source?: string; tag?: string };
  return (k.type === 'PLAIN' && k.tag === undefined && k.source === '<<') || k.tag === `${TAG}merge`;
}

function mergeInto(out: Map<string | symbol, unknown>, value: unknown, w: Walk): void {
  const target = isAlias(value) ? value.resolve(w.doc) : value;
  const want = 'a << merge key needs a map or a list of maps';
  if (isMap(target)) {
    for (const [k, v] of members(walk(value, w))) out.set(k, v);
    return;
  }
  if (!isSeq(target)) throw new HelmYamlError(want);
  // Earlier maps take precedence: go-yaml v2 applies them from the last to the first.
  for (const item of [...target.items].reverse()) {
    const m = isAlias(item) ? item.resolve(w.doc) : item;
    if (!isMap(m)) throw new HelmYamlError(want);
    for (const [k, v] of members(walk(item, w))) out.set(k, v);
  }
}

function walk(node: unknown, w: Walk): unknown {
  w.budget -= 1;
  if (w.budget < 0) throw new HelmYamlError('too many aliases');
  if (node === null || node === undefined) return null;
  if (isAlias(node)) {
    const target = node.resolve(w.doc);
    if (target === undefined) throw new HelmYamlError('an alias (*name) without its anchor');
    if (w.open.has(target)) throw new HelmYamlError('an anchor whose value contains itself');
    return walk(target, w);
  }
  if (isScalar(node)) return scalarValue(node);
  // Go's JSON decoder, which sigs.k8s.io/yaml hands the document to, stops at 10,000 levels.
  if (w.open.size >= GO_MAX_DEPTH) throw new HelmYamlError(`nested more than ${GO_MAX_DEPTH} levels deep`);
  w.open.add(node);
  try {
    return collection(node, w);
  } finally {
    w.open.delete(node);
  }
}

function collection(node: unknown, w: Walk): unknown {
  if (isSeq(node)) return node.items.map((item) => walk(item, w));
  if (isMap(node)) {
    // Keys set in order, each overriding the last, as go-yaml v2 fills a Go map (a merge included).
    const out = new Map<string | symbol, unknown>();
    for (const pair of node.items) {
      if (isMergeKey(pair.key)) mergeInto(out, pair.value, w);
      else out.set(keyString(walk(pair.key, w)), walk(pair.value, w));
    }
    return Object.fromEntries(out);
  }
  throw new HelmYamlError('a YAML node of an unknown kind');
}

/** Refuses what the finished value cannot hold as JSON: .inf, .nan, a bad key; iterative. */
function checkJsonable(root: unknown): void {
  const stack: unknown[] = [root];
  for (let i = stack.length; i > 0; i = stack.length) {
    const v = stack.pop();
    if (typeof v === 'number' && !Number.isFinite(v)) {
      throw new HelmYamlError('.inf and .nan cannot become JSON, and Helm refuses them');
    }
    if (typeof v !== 'object' || v === null) continue;
    if (Object.getOwnPropertySymbols(v).length > 0) throw new HelmYamlError(BAD_KEY);
    for (const child of Object.values(v)) stack.push(child);
  }
}

/**
 * The value of one parsed YAML document as Helm holds it after reading a values file. Parse the
 * document with `{ version: '1.1', merge: false }` so that `<<` stays a key for this walk.
 * `maxNodes` bounds alias expansion (a billion-laughs document).
 */
export function helmYamlValue(doc: Document, maxNodes = 1_000_000): unknown {
  const value = walk(doc.contents, { doc, budget: maxNodes, open: new Set() });
  checkJsonable(value);
  return value;
}
