/**
 * CEL for rules: one environment (standard library, strings extension, the Kubernetes libraries),
 * compile-time checks, and evaluation under a cost budget so that no expression can stall the webhook.
 *
 * @bufbuild/cel has neither a public type checker nor cost tracking, so this file adds both in the
 * small form rules need: a walk of the parsed expression that refuses unknown variables and
 * functions, and a rewrite that charges every call and every comprehension step to a meter.
 */
import {
  celEnv,
  celFunc,
  CelScalar,
  isCelError,
  parse,
  plan,
  type CelEnv,
  type CelInput,
  type CelValue,
} from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { create } from '@bufbuild/protobuf';
import { ExprSchema, type Expr } from '@bufbuild/cel-spec/cel/expr/syntax_pb.js';
import { ExplainedError } from '../engine/errors.js';
import { KUBERNETES_LIBRARIES } from './k8s-lib.js';

/**
 * Cost units one evaluation may spend (a rule may set its own `costBudget`). A unit is one call or
 * comprehension step (plus a tenth of the length of strings it makes); 100 000 units take
 * about 0.2 s on a loaded CI core, well inside the API server's webhook timeout.
 */
export const DEFAULT_COST_BUDGET = 100_000;

/** The variables every rule sees (Kubernetes' names where they mean the same). */
export const RULE_VARIABLES = [
  'object',
  'oldObject',
  'request',
  'namespaceObject',
  'values',
  'userValues',
  'chart',
  'release',
] as const;

/** A rule expression that cannot be compiled; `line` and `column` are within the expression. */
export class CelCompileError extends Error {
  override name = 'CelCompileError';
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(message);
  }
}

/** A CEL evaluation that went wrong: a runtime error or a spent budget. Never a pass. */
export class CelEvalError extends Error {
  override name = 'CelEvalError';
}

/** A rule that spent its cost budget: our own words, quoting no value, so users are shown them. */
export class CelBudgetError extends ExplainedError {
  override name = 'CelBudgetError';
}

const COST_FN = '@cost';

/** What one evaluation may spend; `@cost` charges it. Evaluations are synchronous, so one meter serves. */
const meter = { spent: 0, budget: DEFAULT_COST_BUDGET };

/**
 * The cost of producing a value: 1, plus a tenth of its length for strings and bytes, which are
 * copied (cel-go charges string work by length the same way). Lists and maps are not charged by
 * size: the evaluator shares them (a comprehension's accumulator would otherwise be charged again at
 * every step), and their elements were charged when they were made.
 */
function sizeCost(v: CelValue): number {
  if (typeof v === 'string' || v instanceof Uint8Array) return Math.ceil(v.length / 10);
  return 0;
}

const charge = celFunc(COST_FN, [CelScalar.DYN], CelScalar.DYN, (v: CelValue) => {
  meter.spent += 1 + sizeCost(v);
  if (meter.spent > meter.budget) throw new CelBudgetError(`cost budget of ${meter.budget} exceeded`);
  return v;
});

const FUNCS = [...strings, ...KUBERNETES_LIBRARIES];

/** The environment every rule runs in. */
export const RULE_ENV: CelEnv = celEnv({ funcs: [...FUNCS, charge] });

/** Names of every function and method the environment knows, besides the operators. */
const KNOWN_FUNCTIONS = new Set<string>([
  ...FUNCS.map((f) => f.name),
  // The standard library (cel-spec langdef): macros are expanded by the parser, these remain calls.
  ...['size', 'matches', 'startsWith', 'endsWith', 'contains', 'has', 'type', 'dyn'],
  ...['int', 'uint', 'double', 'string', 'bytes', 'bool', 'duration', 'timestamp'],
  ...['getFullYear', 'getMonth', 'getDate', 'getDayOfMonth', 'getDayOfYear', 'getDayOfWeek'],
  ...['getHours', 'getMinutes', 'getSeconds', 'getMilliseconds'],
]);

/** Type names are identifiers too (`type(x) == int`). */
const TYPE_NAMES = ['int', 'uint', 'double', 'bool', 'string', 'bytes', 'list', 'map', 'null_type', 'type'];

function isOperator(name: string): boolean {
  return name.startsWith('_') || name.startsWith('@') || name === '!_' || name === '-_';
}

/** Positions of expression ids, to name the line and column of a problem. */
type Positions = { offsets: Map<bigint, number>; text: string };

function lineCol(pos: Positions, id: bigint): { line: number; column: number } {
  const offset = pos.offsets.get(id) ?? 0;
  const before = pos.text.slice(0, offset).split('\n');
  return { line: before.length, column: (before[before.length - 1]?.length ?? 0) + 1 };
}

function children(e: Expr): Expr[] {
  const k = e.exprKind;
  switch (k.case) {
    case 'selectExpr':
      return k.value.operand ? [k.value.operand] : [];
    case 'callExpr':
      return [...(k.value.target ? [k.value.target] : []), ...k.value.args];
    case 'listExpr':
      return k.value.elements;
    case 'structExpr':
      return k.value.entries.flatMap((en) => [
        ...(en.keyKind.case === 'mapKey' ? [en.keyKind.value] : []),
        ...(en.value ? [en.value] : []),
      ]);
    case 'comprehensionExpr': {
      const c = k.value;
      return [c.iterRange, c.accuInit, c.loopCondition, c.loopStep, c.result].filter(
        (x): x is Expr => x !== undefined,
      );
    }
    default:
      return [];
  }
}

/** Refuses what a type checker would: unknown variables, unknown functions, message literals. */
function checkNames(e: Expr, scope: ReadonlySet<string>, pos: Positions): void {
  const k = e.exprKind;
  const fail = (msg: string): never => {
    const { line, column } = lineCol(pos, e.id);
    throw new CelCompileError(msg, line, column);
  };
  if (k.case === 'identExpr' && !scope.has(k.value.name))
    fail(`undeclared reference to '${k.value.name}' (variables: ${RULE_VARIABLES.join(', ')})`);
  if (k.case === 'callExpr' && !isOperator(k.value.function) && !KNOWN_FUNCTIONS.has(k.value.function))
    fail(`found no function or method named '${k.value.function}'`);
  if (k.case === 'structExpr' && k.value.messageName !== '')
    fail(`message types are not available to rules ('${k.value.messageName}')`);
  if (k.case === 'comprehensionExpr') {
    const c = k.value;
    const inner = new Set([...scope, c.iterVar, c.iterVar2, c.accuVar].filter((n) => n !== ''));
    for (const x of [c.iterRange, c.accuInit].filter((y): y is Expr => y !== undefined))
      checkNames(x, scope, pos);
    for (const x of [c.loopCondition, c.loopStep, c.result].filter((y): y is Expr => y !== undefined))
      checkNames(x, inner, pos);
    return;
  }
  for (const c of children(e)) checkNames(c, scope, pos);
}

/** Wraps every call and comprehension step in `@cost`, so evaluation is charged as it goes. */
function meterExpr(e: Expr, nextId: { n: bigint }): Expr {
  const k = e.exprKind;
  if (k.case === 'comprehensionExpr' && k.value.loopStep) {
    k.value.loopStep = meterExpr(k.value.loopStep, nextId);
    for (const key of ['iterRange', 'accuInit', 'loopCondition', 'result'] as const) {
      const x = k.value[key];
      if (x) k.value[key] = meterExpr(x, nextId);
    }
    k.value.loopStep = wrap(k.value.loopStep, nextId);
    return e;
  }
  if (k.case === 'callExpr') {
    if (k.value.target) k.value.target = meterExpr(k.value.target, nextId);
    k.value.args = k.value.args.map((a) => meterExpr(a, nextId));
    return wrap(e, nextId);
  }
  if (k.case === 'selectExpr' && k.value.operand) k.value.operand = meterExpr(k.value.operand, nextId);
  if (k.case === 'listExpr') k.value.elements = k.value.elements.map((x) => meterExpr(x, nextId));
  if (k.case === 'structExpr')
    for (const en of k.value.entries) {
      if (en.value) en.value = meterExpr(en.value, nextId);
      if (en.keyKind.case === 'mapKey') en.keyKind.value = meterExpr(en.keyKind.value, nextId);
    }
  return e;
}

function wrap(e: Expr, nextId: { n: bigint }): Expr {
  nextId.n += 1n;
  return create(ExprSchema, {
    id: nextId.n,
    exprKind: { case: 'callExpr', value: { function: COST_FN, args: [e] } },
  });
}

function maxId(e: Expr): bigint {
  return children(e).reduce((m, c) => (maxId(c) > m ? maxId(c) : m), e.id);
}

/** A compiled expression: call it with the variables, get a value or a CelEvalError. */
export interface CelProgram {
  source: string;
  run(vars: Record<string, CelInput>, budget?: number): { value: CelValue; cost: number };
}

function parseOrThrow(source: string): ReturnType<typeof parse> {
  try {
    return parse(source);
  } catch (err: unknown) {
    const msg = err instanceof Error ? err.message : String(err);
    const m = /<input>:(\d+):(\d+): (.*)/.exec(msg);
    if (m) throw new CelCompileError(m[3] ?? msg, Number(m[1]), Number(m[2]));
    throw new CelCompileError(msg.split('\n')[0] ?? msg, 1, 1);
  }
}

/** Parses and checks an expression once; throws CelCompileError naming the line and column. */
export function compileCel(source: string, extraVariables: readonly string[] = []): CelProgram {
  if (source.trim() === '') throw new CelCompileError('the expression is empty', 1, 1);
  const parsed = parseOrThrow(source);
  const pos: Positions = {
    offsets: new Map(Object.entries(parsed.sourceInfo?.positions ?? {}).map(([id, o]) => [BigInt(id), o])),
    text: source,
  };
  checkNames(parsed.expr, new Set([...RULE_VARIABLES, ...TYPE_NAMES, ...extraVariables]), pos);
  const metered = meterExpr(parsed.expr, { n: maxId(parsed.expr) });
  const program = plan(RULE_ENV, { ...parsed, expr: metered });
  return {
    source,
    run(vars, budget = DEFAULT_COST_BUDGET) {
      meter.spent = 0;
      meter.budget = budget;
      const value = program(vars);
      const cost = meter.spent;
      if (isCelError(value)) throw budgetCause(value) ?? new CelEvalError(celErrorText(value));
      return { value, cost };
    },
  };
}

/** The spent budget behind a CEL error, if that is what stopped it (the library wraps what functions throw). */
function budgetCause(err: Error): CelBudgetError | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) if (e instanceof CelBudgetError) return e;
  return undefined;
}

/** The deepest cause of a CEL error, which is the one that says what went wrong. */
function celErrorText(err: Error): string {
  let e: unknown = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  const inner = e instanceof Error ? e.message : String(e);
  return inner === err.message ? err.message : `${err.message}: ${inner}`;
}
