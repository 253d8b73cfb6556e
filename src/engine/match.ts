/**
 * Reading the `match` declarations of policies: which objects a policy judges. One reading serves
 * the engine (a policy runs only on what it matches), the audit (it reads in full only what some
 * policy matches) and the chart's generated matchConditions (scripts/gen-reach.ts), so the three agree.
 */
import type { ConfiguredNamespace, MatchRule, Policy, Subject, SubjectKind } from './types.js';

/** Name, namespace and labels: all a match rule looks at. */
export interface MatchTarget {
  name: string;
  /** The object's namespace; for a Namespace, its own name. */
  namespace: string;
  labels: Readonly<Record<string, string>>;
}

/** The configured namespaces that rules name. */
export interface MatchNamespaces {
  management: string;
  addons: string;
}

function nameMatches(pattern: string, name: string): boolean {
  return pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : name === pattern;
}

// The loops below allocate nothing: every Deployment and Namespace review asks each policy that
// judges its kind, and closures and entry lists here were 2 KB of garbage a review.

function namespaceMatches(
  names: readonly ConfiguredNamespace[],
  target: MatchTarget,
  ns: MatchNamespaces,
): boolean {
  for (const n of names) if (ns[n] === target.namespace) return true;
  return false;
}

function anyNameMatches(patterns: readonly string[], name: string): boolean {
  for (const p of patterns) if (nameMatches(p, name)) return true;
  return false;
}

function labelsMatch(labels: Readonly<Record<string, string>>, target: MatchTarget): boolean {
  for (const k in labels) if (Object.hasOwn(labels, k) && target.labels[k] !== labels[k]) return false;
  return true;
}

/** True when every field the rule gives holds for the object. */
export function ruleMatches(rule: MatchRule, target: MatchTarget, ns: MatchNamespaces): boolean {
  if (rule.namespaces && !namespaceMatches(rule.namespaces, target, ns)) return false;
  if (rule.names && !anyNameMatches(rule.names, target.name)) return false;
  return rule.labels === undefined || labelsMatch(rule.labels, target);
}

/** True when the policy judges this object of this kind. */
export function policyMatches(
  policy: Policy,
  kind: SubjectKind,
  target: MatchTarget,
  ns: MatchNamespaces,
): boolean {
  if (!policy.appliesTo.includes(kind)) return false;
  const rules = policy.match?.[kind];
  if (rules === undefined) return true;
  for (const r of rules) if (ruleMatches(r, target, ns)) return true;
  return false;
}

/** True when any of the policies judges this object (so the webhook and the audit must see it). */
export function anyPolicyMatches(
  policies: readonly Policy[],
  kind: SubjectKind,
  target: MatchTarget,
  ns: MatchNamespaces,
): boolean {
  return policies.some((p) => policyMatches(p, kind, target, ns));
}

/** The name, namespace and labels of a subject; undefined for a release, which rules do not narrow. */
export function subjectTarget(s: Subject): MatchTarget | undefined {
  switch (s.kind) {
    case 'release':
      return undefined;
    case 'namespace':
      return { name: s.name, namespace: s.name, labels: s.object.metadata?.labels ?? {} };
    case 'deployment':
    case 'service':
      return { name: s.name, namespace: s.namespace ?? '', labels: s.object.metadata?.labels ?? {} };
  }
}

/** The name a subject goes by: the release's, or the object's. */
export function subjectName(s: Subject): string {
  return s.kind === 'release' ? s.release.name : s.name;
}

/** The namespace a subject lives in; for a Namespace, its own name. */
export function subjectNamespace(s: Subject): string | undefined {
  if (s.kind === 'release') return s.release.namespace;
  return s.kind === 'namespace' ? s.name : s.namespace;
}
