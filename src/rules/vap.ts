/**
 * ValidatingAdmissionPolicies from the CEL the engine runs: the built-in object checks and the
 * user rules that judge objects only, so the API server enforces them in-process, with no webhook
 * on the path and the same `[id] message (path) -> fix` messages. Release rules stay with the webhook.
 */
import { parse } from '@bufbuild/cel';
import type { Expr } from '@bufbuild/cel-spec/cel/expr/syntax_pb.js';
import type { Config, PolicyException } from '../config/types.js';
import type { Action, SubjectKind } from '../engine/types.js';
import { POLICIES } from '../policies/index.js';
import { BUILTIN_CEL, type CelCheckGroup } from './builtin.js';
import type { RuleSpec } from './types.js';

type ObjectKind = Exclude<SubjectKind, 'release'>;

const RESOURCES: Record<ObjectKind, { apiGroups: string[]; apiVersions: string[]; resources: string[] }> = {
  namespace: { apiGroups: [''], apiVersions: ['v1'], resources: ['namespaces'] },
  deployment: { apiGroups: ['apps'], apiVersions: ['v1'], resources: ['deployments'] },
  service: { apiGroups: [''], apiVersions: ['v1'], resources: ['services'] },
};

/** Variables a ValidatingAdmissionPolicy offers; a rule using others needs the webhook. */
const VAP_VARIABLES = new Set(['object', 'oldObject', 'request', 'namespaceObject', 'variables']);

/** A rule or policy that stays with the webhook, and why. */
export interface NotRendered {
  id: string;
  reason: string;
}

/** What `gloo-guard vap` renders. */
export interface VapRender {
  objects: Array<Record<string, unknown>>;
  skipped: NotRendered[];
}

function childExprs(e: Expr): Expr[] {
  const k = e.exprKind;
  if (k.case === 'selectExpr') return k.value.operand ? [k.value.operand] : [];
  if (k.case === 'callExpr') return [...(k.value.target ? [k.value.target] : []), ...k.value.args];
  if (k.case === 'listExpr') return k.value.elements;
  if (k.case === 'structExpr')
    return k.value.entries.flatMap((en) => [
      ...(en.value ? [en.value] : []),
      ...(en.keyKind.case === 'mapKey' ? [en.keyKind.value] : []),
    ]);
  return [];
}

/** Free identifiers of an expression (comprehension variables are bound, not free). */
function identifiers(e: Expr, out = new Set<string>()): Set<string> {
  const k = e.exprKind;
  if (k.case === 'identExpr') out.add(k.value.name);
  if (k.case === 'comprehensionExpr') {
    const c = k.value;
    const inner = new Set<string>();
    for (const x of [c.iterRange, c.accuInit]) if (x) identifiers(x, out);
    for (const x of [c.loopCondition, c.loopStep, c.result]) if (x) identifiers(x, inner);
    for (const n of inner) if (n !== c.iterVar && n !== c.iterVar2 && n !== c.accuVar) out.add(n);
  }
  for (const c of childExprs(e)) identifiers(c, out);
  return out;
}

function actions(action: Action, config: Config): string[] {
  return config.mode === 'enforce' && action === 'deny' ? ['Deny'] : ['Warn', 'Audit'];
}

/** As `onError` says for the webhook; audit mode refuses nothing, so it never fails closed. */
function failurePolicy(config: Config): string {
  return config.mode === 'enforce' && config.onError === 'deny' ? 'Fail' : 'Ignore';
}

/**
 * A CEL string literal in JSON's syntax (a subset of CEL's), escaped as Go's json.Marshal escapes
 * it (the chart's `toJson`), so the chart and `gloo-guard vap` render the same text.
 */
const lit = (s: string): string =>
  JSON.stringify(s).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );

/**
 * Live exceptions as match conditions, named by their place in the config (expired ones no longer
 * apply; expiry cannot be rendered). A Namespace's namespace is its own name.
 */
function exceptionConditions(
  id: string,
  kind: ObjectKind,
  config: Config,
  now: Date,
): Array<Record<string, string>> {
  const today = now.toISOString().slice(0, 10);
  const ns = kind === 'namespace' ? 'request.name' : 'request.namespace';
  return config.exceptions.flatMap((ex: PolicyException, i) => {
    if (ex.policy !== id || (ex.expires !== undefined && ex.expires < today)) return [];
    const terms = [
      ...(ex.namespace !== undefined ? [`${ns} == ${lit(ex.namespace)}`] : []),
      ...(ex.name !== undefined ? [`request.name == ${lit(ex.name)}`] : []),
    ];
    return [{ name: `exception-${i}`, expression: terms.length ? `!(${terms.join(' && ')})` : 'false' }];
  });
}

/** Never stand in the way of a deletion (finalizer removal is an UPDATE), as the webhooks do. */
const NOT_BEING_DELETED = {
  name: 'not-being-deleted',
  expression: '!has(object.metadata.deletionTimestamp)',
};

function pair(
  name: string,
  kind: ObjectKind,
  spec: Record<string, unknown>,
  config: Config,
  validationActions: string[],
  matchConditions: Array<Record<string, string>>,
): Array<Record<string, unknown>> {
  const metadata = { name, labels: { 'app.kubernetes.io/managed-by': 'gloo-guard' } };
  return [
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata,
      spec: {
        failurePolicy: failurePolicy(config),
        matchConstraints: { resourceRules: [{ ...RESOURCES[kind], operations: ['CREATE', 'UPDATE'] }] },
        matchConditions: [NOT_BEING_DELETED, ...matchConditions],
        ...spec,
      },
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata,
      spec: { policyName: name, validationActions },
    },
  ];
}

/** The `namespaces` variable every built-in check reads first. */
export function namespacesExpression(management: string, addons: string): string {
  return `{'management': ${lit(management)}, 'addons': ${lit(addons)}}`;
}

/** A built-in check group's variables (after `namespaces`) and validations, as the policy spec holds them. */
export function builtinSpec(g: CelCheckGroup): {
  variables: Array<{ name: string; expression: string }>;
  validations: Array<Record<string, string>>;
} {
  const title = POLICIES.find((p) => p.id === g.policy)?.title ?? g.policy;
  return {
    variables: g.variables.map(([name, expression]) => ({ name, expression })),
    validations: g.validations.map((v) => ({
      expression: v.expression,
      messageExpression: `'[${g.policy}] ' + (${v.message}) + ${lit(` (${v.path}) -> `)} + (${v.fix})`,
      message: `[${g.policy}] ${title} (${v.path})`,
      // 403, as the webhook answers, rather than the default 422 Invalid.
      reason: 'Forbidden',
    })),
  };
}

function builtinPair(g: CelCheckGroup, config: Config, now: Date): Array<Record<string, unknown>> {
  const policy = POLICIES.find((p) => p.id === g.policy);
  const action = config.policies[g.policy]?.action ?? policy?.defaultAction ?? 'deny';
  if (action === 'off') return [];
  const { variables, validations } = builtinSpec(g);
  const { management, addons } = config.namespaces;
  const spec = {
    variables: [{ name: 'namespaces', expression: namespacesExpression(management, addons) }, ...variables],
    validations,
  };
  return pair(
    `gloo-guard-${g.policy}-${g.kind}`,
    g.kind,
    spec,
    config,
    actions(action, config),
    exceptionConditions(g.policy, g.kind, config, now),
  );
}

function ruleMatchConditions(rule: RuleSpec, kind: ObjectKind): Array<Record<string, string>> {
  const m = rule.match;
  const out: Array<Record<string, string>> = [];
  const list = (xs: string[]): string => JSON.stringify(xs);
  if (m?.namespaces) {
    const ns = kind === 'namespace' ? 'request.name' : 'request.namespace';
    out.push({ name: 'match-namespaces', expression: `${ns} in ${list(m.namespaces)}` });
  }
  if (m?.names) out.push({ name: 'match-names', expression: `request.name in ${list(m.names)}` });
  return out;
}

function unrenderable(rule: RuleSpec): string | undefined {
  if (rule.appliesTo.includes('release')) return 'it judges Helm releases, which only the webhook can decode';
  if (rule.match?.families || rule.match?.versions) return 'its match names chart families or versions';
  for (const src of [rule.expression, rule.messageExpression].filter((x): x is string => x !== undefined)) {
    const used = [...identifiers(parse(src).expr)].filter(
      (n) =>
        !VAP_VARIABLES.has(n) && !/^(int|uint|double|bool|string|bytes|list|map|null_type|type)$/.test(n),
    );
    if (used.length) return `it reads ${used.join(', ')}, which a ValidatingAdmissionPolicy does not have`;
  }
  return undefined;
}

function rulePairs(rule: RuleSpec, config: Config, now: Date): Array<Record<string, unknown>> {
  const action = config.policies[rule.id]?.action ?? rule.action;
  if (action === 'off') return [];
  const message =
    rule.messageExpression ?? lit(rule.message ?? `failed expression: ${rule.expression.trim()}`);
  const path = rule.path ?? 'object';
  const spec = {
    validations: [
      {
        expression: rule.expression,
        messageExpression: `'[${rule.id}] ' + (${message}) + ${lit(` (${path}) -> ${rule.remediation}`)}`,
        message: `[${rule.id}] ${rule.message ?? rule.title} (${path}) -> ${rule.remediation}`,
        reason: 'Forbidden',
      },
    ],
  };
  return (rule.appliesTo as ObjectKind[]).flatMap((kind) =>
    pair(`gloo-guard-${rule.id}-${kind}`, kind, spec, config, actions(action, config), [
      ...ruleMatchConditions(rule, kind),
      ...exceptionConditions(rule.id, kind, config, now),
    ]),
  );
}

/** The policies and bindings for a config: built-in object checks, then eligible user rules. */
export function renderVaps(config: Config, now = new Date()): VapRender {
  const objects = BUILTIN_CEL.flatMap((g) => builtinPair(g, config, now));
  const skipped: NotRendered[] = [];
  for (const rule of config.rules) {
    const why = unrenderable(rule);
    if (why) skipped.push({ id: rule.id, reason: why });
    else objects.push(...rulePairs(rule, config, now));
  }
  return { objects, skipped };
}
