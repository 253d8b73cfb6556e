/**
 * Policy reports, the objects Kyverno and Policy Reporter read: `wgpolicyk8s.io/v1alpha2` PolicyReport
 * (the long-standing group) or `openreports.io/v1alpha1` Report (where Kyverno 1.15+ moves). One per
 * namespace, replaced each audit. Both CRDs share the result schema, so one builder serves both.
 */
import type { ClusterAudit, ResourceRef } from './audit.js';

/** The name every gloo-guard report has, so each audit replaces the last. */
export const POLICY_REPORT_NAME = 'gloo-guard';

/** The report APIs gloo-guard can write, by group. */
export const REPORT_APIS = {
  'wgpolicyk8s.io': { apiVersion: 'wgpolicyk8s.io/v1alpha2', kind: 'PolicyReport', plural: 'policyreports' },
  'openreports.io': { apiVersion: 'openreports.io/v1alpha1', kind: 'Report', plural: 'reports' },
} as const;

/** A report API group: `wgpolicyk8s.io` (default) or `openreports.io`. */
export type ReportGroup = keyof typeof REPORT_APIS;

/** The groups, in the order help texts list them. */
export const REPORT_GROUPS = Object.keys(REPORT_APIS) as ReportGroup[];

/** True when `x` names a report group. */
export function isReportGroup(x: string): x is ReportGroup {
  return x in REPORT_APIS;
}

/** The one-line reason `text` names no report group, for a usage error. */
export function reportGroupProblem(text: string): string {
  return `--reports-api must be one of ${REPORT_GROUPS.join(', ')}, not "${text}"`;
}

/** What every result says about where it comes from (Policy Reporter filters and groups by these). */
const SOURCE = 'gloo-guard';
const CATEGORY = 'Gloo Mesh';

interface ReportResult {
  source: typeof SOURCE;
  policy: string;
  rule: string;
  category: typeof CATEGORY;
  result: 'fail' | 'warn' | 'skip' | 'error';
  severity?: string;
  message: string;
  properties: Record<string, string>;
  resources: ResourceRef[];
  timestamp: { seconds: number; nanos: number };
}

/** A report object (PolicyReport or Report), ready to create or replace. */
export interface PolicyReport {
  apiVersion: (typeof REPORT_APIS)[ReportGroup]['apiVersion'];
  kind: (typeof REPORT_APIS)[ReportGroup]['kind'];
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  summary: { pass: number; fail: number; warn: number; error: number; skip: number };
  results: ReportResult[];
}

/** Results beyond this per namespace are dropped (and counted), so a report stays far below etcd's limits. */
export const MAX_RESULTS_PER_REPORT = 500;

function namespaceOf(r: ResourceRef): string {
  return r.kind === 'Namespace' ? r.name : (r.namespace ?? '');
}

function emptyReport(namespace: string, group: ReportGroup): PolicyReport {
  const { apiVersion, kind } = REPORT_APIS[group];
  return {
    apiVersion,
    kind,
    metadata: {
      name: POLICY_REPORT_NAME,
      namespace,
      labels: { 'app.kubernetes.io/managed-by': 'gloo-guard' },
    },
    summary: { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 },
    results: [],
  };
}

type Base = Pick<ReportResult, 'source' | 'category' | 'resources' | 'timestamp'>;

/** The results of one judged object: findings, exemptions, and policies that failed to run. */
function resultsOf(o: ClusterAudit['objects'][number], base: Base): ReportResult[] {
  const out: ReportResult[] = [];
  for (const f of o.result.findings)
    out.push({
      ...base,
      policy: f.policy,
      rule: f.policy,
      result: f.action === 'deny' ? 'fail' : 'warn',
      severity: f.severity,
      message: f.message,
      properties: { path: f.path, fix: f.fix, object: f.object },
    });
  for (const e of o.result.exempted)
    out.push({
      ...base,
      policy: e.policy,
      rule: e.policy,
      result: 'skip',
      message: `exempted: ${e.reason}`,
      properties: { path: e.path, object: e.object },
    });
  for (const e of o.result.errors)
    out.push({
      ...base,
      policy: e.policy ?? SOURCE,
      rule: e.policy ?? SOURCE,
      result: 'error',
      message: e.message,
      properties: { object: e.object },
    });
  return out;
}

/**
 * One report per namespace with something to report; a namespace with nothing gets none, and the
 * writer deletes its old one. A Namespace's own findings go in its report. Denials are `fail`,
 * warnings `warn`, exempted findings `skip` with the reason, policies that failed `error`.
 */
export function buildPolicyReports(
  audit: ClusterAudit,
  now: Date,
  group: ReportGroup = 'wgpolicyk8s.io',
): PolicyReport[] {
  const timestamp = { seconds: Math.floor(now.getTime() / 1000), nanos: 0 };
  const reports = new Map<string, PolicyReport>();
  for (const o of audit.objects) {
    const ns = namespaceOf(o.resource);
    if (ns === '') continue;
    const base: Base = { source: SOURCE, category: CATEGORY, resources: [o.resource], timestamp };
    for (const r of resultsOf(o, base)) {
      const rep = reports.get(ns) ?? emptyReport(ns, group);
      reports.set(ns, rep);
      rep.summary[r.result] += 1;
      if (rep.results.length < MAX_RESULTS_PER_REPORT) rep.results.push(r);
    }
  }
  // A list the audit may not read leaves Gloo Mesh installs unseen: said in the management namespace's report.
  for (const u of audit.unread.filter((x) => x.forbidden)) {
    const rep = reports.get(u.namespace) ?? emptyReport(u.namespace, group);
    reports.set(u.namespace, rep);
    rep.summary.error += 1;
    const crd = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: u.crd };
    rep.results.push({
      ...{ source: SOURCE, category: CATEGORY, timestamp, policy: SOURCE, rule: SOURCE },
      result: 'error',
      message: `${u.source}: ${u.message}`,
      properties: {},
      resources: [crd],
    });
  }
  return [...reports.values()];
}
