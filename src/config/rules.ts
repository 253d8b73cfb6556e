/**
 * The checks of the config's `rules:` that a schema cannot make: each rule's CEL compiles when the
 * config loads, and its id is neither a built-in policy's nor another rule's, so a broken rule is an
 * error naming the rule and the line, never a surprise at admission. Its shape is the schema's job
 * (src/config/schema.ts).
 */
import { Scalar, type Node } from 'yaml';
import { CelCompileError, compileCel } from '../rules/cel.js';
import type { RuleSpec } from '../rules/types.js';
import { KEBAB } from './schema.js';

/** How the loader reports a problem (it prefixes the file and line). */
export interface RuleReader {
  /** The YAML node at a path of the config (keys and list indexes). */
  nodeAt(path: ReadonlyArray<string | number>): Node | undefined;
  /** The config line where a node starts. */
  lineOf(node: Node | undefined): number | undefined;
  /** Reports a problem at a config line. */
  failAt(line: number | undefined, msg: string): void;
  /** How a path is shown to the user, e.g. `rules[0] (relay-internal-dns)`. */
  label(path: ReadonlyArray<string | number>): string;
  /** Ids that rules may not take. */
  builtinIds: ReadonlySet<string>;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Compiles one CEL field; a problem names the rule, the field and the config line of the CEL line. */
function checkCel(r: RuleReader, path: Array<string | number>, source: unknown): void {
  if (typeof source !== 'string' || source.trim() === '') return; // the schema reported it
  try {
    compileCel(source);
  } catch (err: unknown) {
    if (!(err instanceof CelCompileError)) throw err;
    const node = r.nodeAt(path);
    const start = r.lineOf(node) ?? 0;
    // A block scalar (`|`, `>`) starts on the line after its indicator.
    const block = node instanceof Scalar && (node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED');
    const line = start + (block ? 1 : 0) + err.line - 1;
    r.failAt(line, `${r.label(path)}: ${err.message} (column ${err.column})`);
  }
}

function checkId(r: RuleReader, id: unknown, path: Array<string | number>, seen: Set<string>): void {
  if (typeof id !== 'string' || !new RegExp(KEBAB).test(id)) return; // the schema reported it
  const at = r.lineOf(r.nodeAt(path));
  if (r.builtinIds.has(id)) r.failAt(at, `${r.label(path)} "${id}" is a built-in policy id`);
  else if (seen.has(id)) r.failAt(at, `${r.label(path)} "${id}" is used by another rule`);
  seen.add(id);
}

/** Checks the rules that passed the schema's shape; reports every problem through the reader. */
export function checkRules(r: RuleReader, rules: unknown): void {
  if (!Array.isArray(rules)) return;
  const seen = new Set<string>();
  rules.forEach((rule: unknown, i) => {
    if (!isRecord(rule)) return;
    checkId(r, rule.id, ['rules', i, 'id'], seen);
    for (const field of ['expression', 'messageExpression'] as const) {
      checkCel(r, ['rules', i, field], rule[field]);
    }
  });
}

/** The rules as the engine takes them: a rule without an action denies. */
export function toRuleSpecs(rules: unknown): RuleSpec[] {
  return Array.isArray(rules) ? rules.map((rule: RuleSpec) => Object.assign({ action: 'deny' }, rule)) : [];
}
