/** Turns a rule into a Policy, so the engine, the presenters and the config treat it like a built-in. */
import type { CelInput } from '@bufbuild/cel';
import { subjectName, subjectNamespace } from '../engine/match.js';
import type { ClusterView, Policy, PolicyViolation, Subject } from '../engine/types.js';
import { forCurrentSubject } from './current-subject.js';
import { compileCel, CelEvalError, DEFAULT_COST_BUDGET, type CelProgram } from './cel.js';
import { compareSemver, parseSemver } from './k8s-lib.js';
import { toCel } from './values.js';
import type { RuleMatch, RuleSpec } from './types.js';

const programs = new Map<string, CelProgram>();

/** Compiles an expression once per process; rules arrive as plain data (cloned to workers, reloaded). */
export function programFor(source: string, extraVariables: readonly string[] = []): CelProgram {
  const key = `${extraVariables.join(',')}\0${source}`;
  let p = programs.get(key);
  if (!p) {
    p = compileCel(source, extraVariables);
    programs.set(key, p);
  }
  return p;
}

const KINDS: Record<Exclude<Subject['kind'], 'release'>, { group: string; version: string; kind: string }> = {
  namespace: { group: '', version: 'v1', kind: 'Namespace' },
  deployment: { group: 'apps', version: 'v1', kind: 'Deployment' },
  service: { group: '', version: 'v1', kind: 'Service' },
};

function namespaceObject(ns: string | undefined, cluster?: ClusterView): Record<string, unknown> | null {
  const labels = ns === undefined ? undefined : cluster?.namespaceLabels(ns);
  return labels === undefined ? null : { metadata: { name: ns, labels } };
}

/** The variables of a rule for one subject, as plain data (the fast path reads these; CEL gets them converted). */
export function plainVariables(s: Subject, cluster?: ClusterView): Record<string, unknown> {
  const admission = s.source.admission;
  if (s.kind === 'release')
    return {
      object: null,
      // The webhook has only the new release record; the previous revision is another Secret.
      oldObject: null,
      request: admission?.request ?? { name: s.release.name, namespace: s.release.namespace ?? '' },
      namespaceObject: namespaceObject(s.release.namespace, cluster),
      values: s.values,
      userValues: s.userValues,
      chart: { ...s.chart, family: s.family },
      release: {
        name: s.release.name,
        namespace: s.release.namespace ?? '',
        revision: s.release.revision ?? 0,
      },
    };
  return {
    object: s.object,
    oldObject: admission?.oldObject ?? null,
    // Outside admission (files, the audit) only what the object itself says.
    request: admission?.request ?? {
      kind: KINDS[s.kind],
      name: s.name,
      namespace: s.kind === 'namespace' ? '' : (s.namespace ?? ''),
    },
    namespaceObject: namespaceObject(s.kind === 'namespace' ? undefined : s.namespace, cluster),
    values: null,
    userValues: null,
    chart: null,
    release: null,
  };
}

function celVariables(s: Subject, cluster?: ClusterView): Record<string, CelInput> {
  const vars: Record<string, CelInput> = {};
  for (const [k, v] of Object.entries(plainVariables(s, cluster))) vars[k] = toCel(v);
  return vars;
}

const bindings = forCurrentSubject((s) => celVariables(s));

/** The variables of a rule for one subject as CEL values (converted once per subject, shared by every rule). */
export function ruleVariables(s: Subject, cluster?: ClusterView): Record<string, CelInput> {
  // With a cluster view, namespaceObject is read from the cluster, which may change between calls.
  return cluster ? celVariables(s, cluster) : bindings(s);
}

/** Whether a chart version satisfies a range of space-separated comparators (`>=2.4.0 <2.7.0`). */
export function versionInRange(version: string, range: string): boolean {
  const v = parseSemver(version.replace(/^v/, ''));
  if (!v)
    throw new CelEvalError(
      `chart version "${version}" is not a semantic version, so match.versions cannot apply`,
    );
  return range
    .split(/\s+/)
    .filter((c) => c !== '')
    .every((c) => {
      const m = /^(>=|<=|>|<|=)?v?(.+)$/.exec(c);
      const bound = parseSemver(m?.[2] ?? '');
      if (!m || !bound) throw new CelEvalError(`match.versions: "${c}" is not a version comparator`);
      const cmp = compareSemver(v, bound);
      return { '>=': cmp >= 0, '<=': cmp <= 0, '>': cmp > 0, '<': cmp < 0, '=': cmp === 0 }[m[1] ?? '='];
    });
}

/** Whether a user rule's match (families, versions, names, namespaces) selects this subject. */
export function userRuleMatches(match: RuleMatch | undefined, s: Subject): boolean {
  if (!match) return true;
  if (match.names && !match.names.includes(subjectName(s))) return false;
  const ns = subjectNamespace(s);
  if (match.namespaces && (ns === undefined || !match.namespaces.includes(ns))) return false;
  if (s.kind !== 'release') return match.families === undefined && match.versions === undefined;
  if (match.families && !match.families.includes(s.family)) return false;
  return match.versions === undefined || versionInRange(s.chart.version, match.versions);
}

function message(rule: RuleSpec, vars: Record<string, CelInput>, budget: number): string {
  const fallback = rule.message ?? `failed expression: ${rule.expression.trim()}`;
  if (rule.messageExpression === undefined) return fallback;
  try {
    const { value } = programFor(rule.messageExpression).run(vars, budget);
    // As in a ValidatingAdmissionPolicy, a messageExpression that fails or is blank falls back to message.
    return typeof value === 'string' && value.trim() !== '' ? value.trim() : fallback;
  } catch {
    return fallback;
  }
}

/** Runs a rule on a subject: [] when it passes, one violation when false; throws on error or a non-bool. */
export function runRule(rule: RuleSpec, s: Subject, cluster?: ClusterView): PolicyViolation[] {
  if (!userRuleMatches(rule.match, s)) return [];
  const vars = ruleVariables(s, cluster);
  const budget = rule.costBudget ?? DEFAULT_COST_BUDGET;
  const { value } = programFor(rule.expression).run(vars, budget);
  if (typeof value !== 'boolean') throw new CelEvalError(`the expression gave ${typeof value}, not a bool`);
  if (value) return [];
  return [
    { message: message(rule, vars, budget), path: rule.path ?? (s.kind === 'release' ? 'values' : 'object') },
  ];
}

/** A rule as a Policy, for the engine's catalog. */
export function rulePolicy(rule: RuleSpec): Policy {
  return {
    id: rule.id,
    title: rule.title,
    severity: rule.severity,
    defaultAction: rule.action,
    description: rule.description ?? `A rule from the config: \`${rule.expression.trim()}\` must hold.`,
    remediation: rule.remediation,
    appliesTo: rule.appliesTo,
    validate: (subject, ctx) => runRule(rule, subject, ctx.cluster),
  };
}

const policyCache = new WeakMap<readonly RuleSpec[], readonly Policy[]>();

/** The rules of a config as policies (cached per rules list). */
export function rulePolicies(rules: readonly RuleSpec[]): readonly Policy[] {
  let out = policyCache.get(rules);
  if (!out) {
    out = rules.map(rulePolicy);
    policyCache.set(rules, out);
  }
  return out;
}
