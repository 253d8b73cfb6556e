/** The one engine: every caller (webhook, CLI, audit) judges subjects through evaluate(). */
import type { Config, PolicyException } from '../config/types.js';
import { ExplainedError } from './errors.js';
import { policyMatches, subjectName, subjectNamespace, subjectTarget, type MatchTarget } from './match.js';
import type {
  Action,
  ClusterView,
  Policy,
  PolicyViolation,
  Severity,
  Subject,
  SubjectKind,
} from './types.js';

/** A violation after config, exceptions and mode decided what it does. */
export interface Finding {
  policy: string;
  action: 'deny' | 'warn';
  severity: Severity;
  /** `[policy-id] what is wrong (path) -> how to fix it` */
  message: string;
  path: string;
  /** How to fix this case (also the tail of `message`), for reports that show it apart. */
  fix: string;
  /** Where the input came from (file, admission, cluster). */
  source: string;
  /** What was judged: `release gloo-mesh/gloo-mesh-enterprise`, `Namespace gloo-mesh`. */
  object: string;
}

/** A violation that an exception covers. */
export interface ExemptedFinding {
  policy: string;
  path: string;
  object: string;
  reason: string;
}

/** A policy that failed to run: not the user's fault, handled by onError. */
export interface EvaluationError {
  policy?: string;
  object: string;
  message: string;
}

/** What the engine says about one subject. */
export interface EvaluationResult {
  object: string;
  findings: Finding[];
  exempted: ExemptedFinding[];
  errors: EvaluationError[];
  /** Things the user should know that are not violations (an expired exception). */
  notes: string[];
}

/** Optional inputs besides config: the cluster view and the clock (for exception expiry). */
export interface EvaluateOptions {
  cluster?: ClusterView;
  now?: Date;
  /** The catalog to judge with (catalogOf(config) in every caller): the engine is handed it, never imports it. */
  policies: readonly Policy[];
  /** Told of a policy that threw, with the error itself, so the caller can log it (the result only names the policy). */
  onPolicyError?: (policy: string, object: string, err: unknown) => void;
}

/** What a caller of the webhook's review path adds (cluster view, error log; a catalog, else catalogOf(config)). */
export type JudgeOptions = Partial<EvaluateOptions>;

/** Describes a subject for messages. */
export function describeSubject(s: Subject): string {
  switch (s.kind) {
    case 'release': {
      const ns = s.release.namespace ? `${s.release.namespace}/` : '';
      const rev = s.release.revision ? ` revision ${s.release.revision}` : '';
      const chart = `${s.chart.name}${s.chart.version ? ` ${s.chart.version}` : ''}`;
      const parent = s.chart.parent ? ` in ${s.chart.parent.name} ${s.chart.parent.version}`.trimEnd() : '';
      const c = s.carrier;
      const via = c ? `${c.kind} ${c.namespace ? `${c.namespace}/` : ''}${c.name}: ` : '';
      return `${via}release ${ns}${s.release.name} (chart ${chart}${parent}${rev})`;
    }
    case 'namespace':
      return `Namespace ${s.name}`;
    case 'deployment':
      return `Deployment ${s.namespace ? `${s.namespace}/` : ''}${s.name}`;
    case 'service':
      return `Service ${s.namespace ? `${s.namespace}/` : ''}${s.name}`;
  }
}

/** Formats a violation as every message to a user is formatted. */
export function formatViolation(policy: Policy, v: PolicyViolation): string {
  return `[${policy.id}] ${v.message} (${v.path}) -> ${v.fix ?? policy.remediation}`;
}

function isExpired(ex: PolicyException, now: Date): boolean {
  return ex.expires !== undefined && now.toISOString().slice(0, 10) > ex.expires;
}

function matches(ex: PolicyException, policy: string, s: Subject): boolean {
  if (ex.policy !== policy) return false;
  if (ex.namespace !== undefined && ex.namespace !== subjectNamespace(s)) return false;
  return ex.name === undefined || ex.name === subjectName(s);
}

/** Each policy's option defaults, built once: runPolicy is called for every policy on every review. */
const defaultsCache = new WeakMap<Policy, Record<string, unknown>>();

function optionDefaults(policy: Policy): Record<string, unknown> {
  let out = defaultsCache.get(policy);
  if (out === undefined) {
    out = Object.freeze(
      Object.fromEntries(Object.entries(policy.options ?? {}).map(([k, o]) => [k, o.default])),
    );
    defaultsCache.set(policy, out);
  }
  return out;
}

function runPolicy(
  policy: Policy,
  subject: Subject,
  config: Config,
  cluster?: ClusterView,
): PolicyViolation[] {
  const defaults = optionDefaults(policy);
  const configured = config.policies[policy.id]?.options;
  // The defaults are frozen: a policy cannot change them for the next review, and needs no copy.
  const options = configured === undefined ? defaults : { ...defaults, ...configured };
  return policy.validate(subject, {
    namespaces: config.namespaces,
    options,
    ...(cluster ? { cluster } : {}),
  });
}

/** What users see when a policy throws: which policy, and the error's type, never its text (unless written for them). */
export function policyFailure(policy: string, err: unknown): string {
  if (err instanceof ExplainedError) return `policy ${policy} failed: ${err.message}`;
  const type = err instanceof Error ? err.name : typeof err;
  return `policy ${policy} failed to run (${type}); the gloo-guard logs have the details`;
}

/** What the user should know about how a release was read: its catalog and its carrier. */
function releaseNotes(subject: Subject): string[] {
  if (subject.kind !== 'release') return [];
  return [...(subject.notes ?? []), ...(subject.carrierNotes ?? [])];
}

/** Per catalog, per kind, the policies that judge that kind: most of a catalog judges releases only. */
const byKind = new WeakMap<readonly Policy[], Map<SubjectKind, readonly Policy[]>>();

/** The policies of a catalog that judge a kind, in catalog order; a catalog is never changed once built. */
function policiesFor(policies: readonly Policy[], kind: SubjectKind): readonly Policy[] {
  let kinds = byKind.get(policies);
  if (kinds === undefined) byKind.set(policies, (kinds = new Map<SubjectKind, readonly Policy[]>()));
  let out = kinds.get(kind);
  if (out === undefined) kinds.set(kind, (out = policies.filter((p) => p.appliesTo.includes(kind))));
  return out;
}

/**
 * The action a policy that judges this subject's kind takes on it, or undefined when it is off or
 * does not match. `target` is subjectTarget(subject), computed once per subject, not per policy.
 */
function actionFor(
  policy: Policy,
  subject: Subject,
  target: MatchTarget | undefined,
  config: Config,
): Exclude<Action, 'off'> | undefined {
  const action = config.policies[policy.id]?.action ?? policy.defaultAction;
  if (action === 'off') return undefined;
  // What a policy does not match never reaches the webhook; the CLI and the audit skip it too.
  if (target && !policyMatches(policy, subject.kind, target, config.namespaces)) return undefined;
  return action;
}

/** Records one policy's violations as findings, or as exempted when a live exception covers them. */
function record(
  result: EvaluationResult,
  policy: Policy,
  action: Exclude<Action, 'off'>,
  violations: PolicyViolation[],
  ctx: { subject: Subject; config: Config; now: () => Date },
): void {
  const { subject, config } = ctx;
  const object = result.object;
  const exceptions = config.exceptions.filter((ex) => matches(ex, policy.id, subject));
  const now = exceptions.length > 0 ? ctx.now() : undefined;
  const live = now && exceptions.find((ex) => !isExpired(ex, now));
  for (const ex of now ? exceptions.filter((e) => isExpired(e, now)) : []) {
    result.notes.push(
      `[${policy.id}] exception for ${object} expired on ${ex.expires ?? ''} and no longer applies`,
    );
  }
  for (const v of violations) {
    if (live) {
      result.exempted.push({ policy: policy.id, path: v.path, object, reason: live.reason });
      continue;
    }
    result.findings.push({
      policy: policy.id,
      action: config.mode === 'audit' || v.warnOnly ? 'warn' : action,
      severity: policy.severity,
      message: formatViolation(policy, v),
      path: v.path,
      fix: v.fix ?? policy.remediation,
      source: subject.source.location,
      object,
    });
  }
}

/** Judges one subject with every policy that applies, and applies config, exceptions and mode. */
export function evaluate(subject: Subject, config: Config, opts: EvaluateOptions): EvaluationResult {
  const object = describeSubject(subject);
  // The clock is read only when an exception needs it, not for every review.
  const ctx = { subject, config, now: (): Date => opts.now ?? new Date() };
  const target = subjectTarget(subject);
  const result: EvaluationResult = {
    object,
    findings: [],
    exempted: [],
    errors: [],
    notes: releaseNotes(subject),
  };
  for (const policy of policiesFor(opts.policies, subject.kind)) {
    const action = actionFor(policy, subject, target, config);
    if (action === undefined) continue;
    let violations: PolicyViolation[];
    try {
      violations = runPolicy(policy, subject, config, opts.cluster);
    } catch (err: unknown) {
      // The error text may quote the object (values, Secret names): users see which policy failed,
      // the caller's log gets the error itself.
      opts.onPolicyError?.(policy.id, object, err);
      result.errors.push({ policy: policy.id, object, message: policyFailure(policy.id, err) });
      continue;
    }
    if (violations.length > 0) record(result, policy, action, violations, ctx);
  }
  return result;
}

/** True when a result would be refused by the webhook under this config. */
export function isDenied(result: EvaluationResult, config: Config): boolean {
  if (config.mode === 'audit') return false;
  return (
    result.findings.some((f) => f.action === 'deny') ||
    (result.errors.length > 0 && config.onError === 'deny')
  );
}
