/** Reads and validates a config file, with errors that name the file, the line and the problem. */
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isMap, isScalar, isSeq, type Node, type YAMLMap } from 'yaml';
import { POLICIES, policyById } from '../policies/index.js';
import { readRules, type RuleReader } from './rules.js';
import { defaultConfig, type Config, type PolicyException, type PolicySettings } from './types.js';

/** A config that cannot be used; the message names the file, line and problem. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

interface Ctx {
  file: string;
  lc: LineCounter;
  errors: string[];
  /** Ids of the config's own rules, which policies and exceptions may name too. */
  ruleIds: Set<string>;
}

function knownPolicy(ctx: Ctx, id: string): boolean {
  return policyById(id) !== undefined || ctx.ruleIds.has(id);
}

const ACTIONS = ['deny', 'warn', 'off'] as const;

function where(ctx: Ctx, node: Node | null | undefined): string {
  const offset = node?.range?.[0];
  if (offset === undefined) return ctx.file;
  const { line } = ctx.lc.linePos(offset);
  return `${ctx.file}:${line}`;
}

function fail(ctx: Ctx, node: Node | null | undefined, msg: string): void {
  ctx.errors.push(`${where(ctx, node)}: ${msg}`);
}

function entries(ctx: Ctx, node: Node | null | undefined, path: string): Array<[string, Node | null, Node]> {
  if (!isMap(node)) {
    fail(ctx, node, `${path} must be a mapping`);
    return [];
  }
  return (node as YAMLMap<Node, Node | null>).items.map((pair) => {
    const key = pair.key;
    const name = isScalar(key) ? String(key.value) : '';
    return [name, pair.value, key];
  });
}

function str(ctx: Ctx, node: Node | null, path: string, allowed?: readonly string[]): string | undefined {
  if (!isScalar(node) || typeof node.value !== 'string' || node.value === '') {
    fail(ctx, node, `${path} must be a non-empty string`);
    return undefined;
  }
  if (allowed && !allowed.includes(node.value)) {
    fail(ctx, node, `${path} must be one of ${allowed.join(', ')}, not "${node.value}"`);
    return undefined;
  }
  return node.value;
}

function unknownKey(ctx: Ctx, key: Node, path: string, name: string, known: readonly string[]): void {
  fail(ctx, key, `unknown key "${path ? `${path}.` : ''}${name}" (known: ${known.join(', ')})`);
}

function readPolicies(ctx: Ctx, node: Node | null): Record<string, PolicySettings> {
  const out: Record<string, PolicySettings> = {};
  for (const [id, value, key] of entries(ctx, node, 'policies')) {
    if (!knownPolicy(ctx, id)) {
      fail(ctx, key, `unknown policy id "${id}" (run \`gloo-guard policies\` for the list)`);
      continue;
    }
    const settings: PolicySettings = {};
    for (const [k, v, kn] of entries(ctx, value, `policies.${id}`)) {
      if (k === 'action') {
        const a = str(ctx, v, `policies.${id}.action`, ACTIONS);
        if (a) settings.action = a as PolicySettings['action'];
      } else if (k === 'options') {
        settings.options = readOptions(ctx, v, id);
      } else unknownKey(ctx, kn, `policies.${id}`, k, ['action', 'options']);
    }
    out[id] = settings;
  }
  return out;
}

function readOptions(ctx: Ctx, node: Node | null, id: string): Record<string, unknown> {
  const known = policyById(id)?.options ?? {};
  const out: Record<string, unknown> = {};
  for (const [k, v, kn] of entries(ctx, node, `policies.${id}.options`)) {
    const spec = known[k];
    if (!spec) {
      unknownKey(ctx, kn, `policies.${id}.options`, k, Object.keys(known));
      continue;
    }
    const value = isScalar(v) ? v.value : undefined;
    if (typeof value !== typeof spec.default) {
      fail(ctx, v, `policies.${id}.options.${k} must be a ${typeof spec.default}`);
      continue;
    }
    out[k] = value;
  }
  return out;
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

const EXCEPTION_KEYS = ['policy', 'namespace', 'name', 'reason', 'expires'] as const;

function readException(ctx: Ctx, node: Node, i: number): PolicyException | undefined {
  const path = `exceptions[${i}]`;
  const ex: Partial<PolicyException> = {};
  for (const [k, v, kn] of entries(ctx, node, path)) {
    if (!(EXCEPTION_KEYS as readonly string[]).includes(k)) {
      unknownKey(ctx, kn, path, k, EXCEPTION_KEYS);
      continue;
    }
    const value = k === 'expires' && isScalar(v) && v.value instanceof Date ? v.value : undefined;
    if (value) ex.expires = value.toISOString().slice(0, 10);
    else {
      const s = str(ctx, v, `${path}.${k}`);
      if (s !== undefined) (ex as Record<string, string>)[k] = s;
      if (k === 'expires' && s !== undefined && !isCalendarDate(s)) {
        fail(
          ctx,
          v,
          `${path}.expires: "${s}" is not a date; write a real day as YYYY-MM-DD, e.g. 2027-03-31`,
        );
        delete ex.expires;
      }
    }
  }
  if (ex.policy && !knownPolicy(ctx, ex.policy))
    fail(ctx, node, `${path}.policy: unknown policy id "${ex.policy}"`);
  if (!ex.policy) fail(ctx, node, `${path}.policy is required`);
  if (!ex.reason) fail(ctx, node, `${path}.reason is required: say why the exception exists`);
  return ex.policy && ex.reason ? (ex as PolicyException) : undefined;
}

function readExceptions(ctx: Ctx, node: Node | null): PolicyException[] {
  if (!isSeq(node)) {
    fail(ctx, node, 'exceptions must be a list');
    return [];
  }
  return node.items.flatMap((item, i) => readException(ctx, item as Node, i) ?? []);
}

function readPositiveInt(ctx: Ctx, node: Node | null, path: string): number | undefined {
  const v = isScalar(node) ? node.value : undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    fail(ctx, node, `${path} must be a positive whole number`);
    return undefined;
  }
  return v;
}

const TOP_KEYS = ['mode', 'onError', 'namespaces', 'policies', 'exceptions', 'rules', 'limits'] as const;

function ruleReader(ctx: Ctx): RuleReader {
  return {
    fail: (node, msg) => fail(ctx, node, msg),
    failAt: (line, msg) => ctx.errors.push(`${ctx.file}:${line}: ${msg}`),
    lineOf: (node) => (node?.range ? ctx.lc.linePos(node.range[0]).line : undefined),
    builtinIds: new Set(POLICIES.map((p) => p.id)),
  };
}

/** Rules are read before the rest: policies and exceptions may name them. */
function readRulesFirst(ctx: Ctx, all: Array<[string, Node | null, Node]>): Config['rules'] {
  const rules = all.filter(([k]) => k === 'rules').flatMap(([, v]) => readRules(ruleReader(ctx), v));
  for (const r of rules) ctx.ruleIds.add(r.id);
  return rules;
}

function readTop(ctx: Ctx, root: Node | null): Config {
  const cfg = defaultConfig();
  const all = entries(ctx, root, 'the config');
  cfg.rules = readRulesFirst(ctx, all);
  for (const [k, v, kn] of all) {
    switch (k) {
      case 'rules':
        break;
      case 'mode':
        cfg.mode = (str(ctx, v, 'mode', ['enforce', 'audit']) as Config['mode'] | undefined) ?? cfg.mode;
        break;
      case 'onError':
        cfg.onError =
          (str(ctx, v, 'onError', ['deny', 'allow']) as Config['onError'] | undefined) ?? cfg.onError;
        break;
      case 'namespaces':
        for (const [nk, nv, nkn] of entries(ctx, v, 'namespaces')) {
          if (nk === 'management' || nk === 'addons')
            cfg.namespaces[nk] = str(ctx, nv, `namespaces.${nk}`) ?? '';
          else unknownKey(ctx, nkn, 'namespaces', nk, ['management', 'addons']);
        }
        break;
      case 'policies':
        cfg.policies = v === null ? {} : readPolicies(ctx, v);
        break;
      case 'exceptions':
        cfg.exceptions = v === null ? [] : readExceptions(ctx, v);
        break;
      case 'limits':
        for (const [lk, lv, lkn] of entries(ctx, v, 'limits')) {
          if (lk === 'maxReleaseBytes')
            cfg.limits.maxReleaseBytes = readPositiveInt(ctx, lv, 'limits.maxReleaseBytes') ?? 0;
          else unknownKey(ctx, lkn, 'limits', lk, ['maxReleaseBytes']);
        }
        break;
      default:
        unknownKey(ctx, kn, '', k, TOP_KEYS);
    }
  }
  return cfg;
}

/** Parses config text; throws ConfigError listing every problem with its line. */
export function parseConfig(text: string, file = 'config'): Config {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  const ctx: Ctx = { file, lc, errors: [], ruleIds: new Set() };
  // The first syntax error only: the parser reports the knock-on errors of one mistake too.
  const first = doc.errors[0];
  if (first) {
    const line = lc.linePos(first.pos[0]).line;
    ctx.errors.push(`${file}:${line}: not valid YAML: ${first.message.split('\n')[0] ?? ''}`);
  }
  if (ctx.errors.length) throw new ConfigError(ctx.errors.join('\n'));
  if (doc.contents === null) return defaultConfig();
  const cfg = readTop(ctx, doc.contents);
  if (ctx.errors.length) throw new ConfigError(ctx.errors.join('\n'));
  return cfg;
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
