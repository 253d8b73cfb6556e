/** Runs the built-in policies' object checks, kept as CEL data (builtin.ts), for the engine. */
import type { CelInput } from '@bufbuild/cel';
import type { PolicyContext, PolicyViolation, Subject } from '../engine/types.js';
import { BUILTIN_CEL, type CelCheckGroup } from './builtin.js';
import { CelEvalError } from './cel.js';
import { programFor, ruleVariables } from './policy.js';
import { toCel } from './values.js';

const VARIABLES = ['variables'];

function text(source: string, vars: Record<string, CelInput>): string {
  const { value } = programFor(source, VARIABLES).run(vars);
  if (typeof value !== 'string')
    throw new CelEvalError(`a message expression gave ${typeof value}, not a string`);
  return value;
}

function runGroup(g: CelCheckGroup, s: Subject, ctx: PolicyContext): PolicyViolation[] {
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

/** The violations a built-in policy's CEL checks find in an object (none for other kinds). */
export function runCelChecks(policy: string, s: Subject, ctx: PolicyContext): PolicyViolation[] {
  return BUILTIN_CEL.filter((g) => g.policy === policy && g.kind === s.kind).flatMap((g) =>
    runGroup(g, s, ctx),
  );
}

/** Whether a built-in policy has CEL checks for this kind. */
export function hasCelChecks(policy: string, kind: Subject['kind']): boolean {
  return BUILTIN_CEL.some((g) => g.policy === policy && g.kind === kind);
}
