/** Runs the built-in policies' object checks, kept as CEL data (builtin.ts), for the engine. */
import type { CelInput } from '@bufbuild/cel';
import type { PolicyContext, PolicyViolation, Subject } from '../engine/types.js';
import { BUILTIN_CEL, type CelCheckGroup } from './builtin.js';
import { CelEvalError } from './cel.js';
import { compileGroupFast, MEMO, NotDecided, type FastGroup } from './compiled.js';
import { forCurrentSubject } from './current-subject.js';
import { handWritten } from './pod-template-fast.js';
import { plainVariables, programFor, ruleVariables } from './policy.js';
import { toCel } from './values.js';

const VARIABLES = ['variables'];

function text(source: string, vars: Record<string, CelInput>): string {
  const { value } = programFor(source, VARIABLES).run(vars);
  if (typeof value !== 'string')
    throw new CelEvalError(`a message expression gave ${typeof value}, not a string`);
  return value;
}

/** The group's checks by CEL itself: the one that decides, and writes the messages. */
function celGroup(g: CelCheckGroup, s: Subject, ctx: PolicyContext): PolicyViolation[] {
  const base = ruleVariables(s, ctx.cluster);
  const variables: Record<string, CelInput> = { namespaces: toCel(ctx.namespaces) };
  const vars: Record<string, CelInput> = { ...base, variables };
  // Each variable sees the ones before it, as in a ValidatingAdmissionPolicy.
  for (const [name, source] of g.variables) variables[name] = programFor(source, VARIABLES).run(vars).value;
  return g.validations.flatMap((v) =>
    programFor(v.expression, VARIABLES).run(vars).value === true
      ? []
      : [{ message: text(v.message, vars), path: v.path, fix: text(v.fix, vars) }],
  );
}

/**
 * Each group's fast path, found once: written by hand for the pod-template checks (pod-template-fast.ts),
 * else compiled into one function of the fast subset, or null when a check leaves it (CEL alone runs the group).
 */
const fastGroups = new WeakMap<CelCheckGroup, FastGroup | null>();

function fastGroup(g: CelCheckGroup): FastGroup | null {
  let f = fastGroups.get(g);
  if (f === undefined) {
    f =
      handWritten(g) ??
      compileGroupFast(
        g.variables,
        g.validations.map((v) => v.expression),
      ) ??
      null;
    fastGroups.set(g, f);
  }
  return f;
}

/**
 * What the checks of one object read: its variables as plain data, with the memo (compiled.ts MEMO)
 * where they keep what they read from it, made once for all its checks. With a cluster view the
 * variables are read afresh (namespaceObject comes from the cluster), the memo is still the object's.
 */
const varsOf = forCurrentSubject((s): Record<string | symbol, unknown> => {
  const vars: Record<string | symbol, unknown> = plainVariables(s);
  vars[MEMO] = [];
  return vars;
});

function fastVariables(s: Subject, ctx: PolicyContext): Record<string | symbol, unknown> {
  const vars = varsOf(s);
  return ctx.cluster ? { ...plainVariables(s, ctx.cluster), [MEMO]: vars[MEMO] } : vars;
}

/** True when every check of the group holds, read straight from the object (compiled.ts); throws NotDecided otherwise. */
function holds(g: CelCheckGroup, s: Subject, ctx: PolicyContext): boolean {
  const f = fastGroup(g);
  if (!f) throw new NotDecided(`a check of ${g.policy} is not in the fast subset`);
  return f(fastVariables(s, ctx), { namespaces: ctx.namespaces });
}

/**
 * Runs one group. Almost every object passes, and the fast path says so for a fraction of CEL's cost;
 * a finding, an error or anything the fast path cannot decide is left to CEL, so the verdict and its
 * words are always CEL's.
 */
function runGroup(g: CelCheckGroup, s: Subject, ctx: PolicyContext): PolicyViolation[] {
  try {
    if (holds(g, s, ctx)) return [];
  } catch (err: unknown) {
    if (!(err instanceof NotDecided)) throw err;
  }
  return celGroup(g, s, ctx);
}

// By policy, then kind: the callers' constant strings, not a key built (and hashed) on every call.
const groupsOf = new Map<string, Map<Subject['kind'], readonly CelCheckGroup[]>>();

/** The groups of one policy for one kind, found once: every Deployment and Namespace review asks. */
function groupsFor(policy: string, kind: Subject['kind']): readonly CelCheckGroup[] {
  let byKind = groupsOf.get(policy);
  if (byKind === undefined) {
    byKind = new Map();
    groupsOf.set(policy, byKind);
  }
  let out = byKind.get(kind);
  if (out === undefined) {
    out = BUILTIN_CEL.filter((g) => g.policy === policy && g.kind === kind);
    byKind.set(kind, out);
  }
  return out;
}

/** The violations a built-in policy's CEL checks find in an object (none for other kinds). */
export function runCelChecks(policy: string, s: Subject, ctx: PolicyContext): PolicyViolation[] {
  // A loop, not flatMap: most objects pass every group, and then nothing is built.
  let out: PolicyViolation[] = [];
  for (const g of groupsFor(policy, s.kind)) {
    const found = runGroup(g, s, ctx);
    if (found.length > 0) out = out.length === 0 ? found : [...out, ...found];
  }
  return out;
}

/** Whether a built-in policy has CEL checks for this kind. */
export function hasCelChecks(policy: string, kind: Subject['kind']): boolean {
  return BUILTIN_CEL.some((g) => g.policy === policy && g.kind === kind);
}
