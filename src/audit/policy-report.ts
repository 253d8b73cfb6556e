/** PolicyReports (wgpolicyk8s.io/v1alpha2), the format Kyverno and Policy Reporter read: one per namespace, replaced. */
import type { ClusterAudit, ResourceRef } from './audit.js';

/** The name every gloo-guard PolicyReport has, so each audit replaces the last. */
export const POLICY_REPORT_NAME = 'gloo-guard';

interface ReportResult {
  source: 'gloo-guard';
  policy: string;
  result: 'fail' | 'warn' | 'skip' | 'error';
  severity?: string;
  message: string;
  properties: Record<string, string>;
  resources: ResourceRef[];
  timestamp: { seconds: number; nanos: number };
}

/** A PolicyReport object, ready to create or replace. */
export interface PolicyReport {
  apiVersion: 'wgpolicyk8s.io/v1alpha2';
  kind: 'PolicyReport';
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  scope?: ResourceRef;
  summary: { pass: number; fail: number; warn: number; error: number; skip: number };
  results: ReportResult[];
}

/** Results beyond this per namespace are dropped (and counted), so a report stays far below etcd's limits. */
export const MAX_RESULTS_PER_REPORT = 500;

function namespaceOf(r: ResourceRef): string {
  return r.kind === 'Namespace' ? r.name : (r.namespace ?? '');
}

function emptyReport(namespace: string): PolicyReport {
  return {
    apiVersion: 'wgpolicyk8s.io/v1alpha2',
    kind: 'PolicyReport',
    metadata: {
      name: POLICY_REPORT_NAME,
      namespace,
      labels: { 'app.kubernetes.io/managed-by': 'gloo-guard' },
    },
    summary: { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 },
    results: [],
  };
}

/**
 * One PolicyReport per namespace with something to report; a namespace with nothing gets none, and
 * the writer deletes its old one. A Namespace's own findings go in its report. Denials are `fail`,
 * warnings `warn`; exempted findings are `skip` with the reason.
 */
export function buildPolicyReports(audit: ClusterAudit, now: Date): PolicyReport[] {
  const ts = { seconds: Math.floor(now.getTime() / 1000), nanos: 0 };
  const reports = new Map<string, PolicyReport>();
  const push = (ns: string, r: ReportResult): void => {
    const rep = reports.get(ns) ?? emptyReport(ns);
    reports.set(ns, rep);
    rep.summary[r.result] += 1;
    if (rep.results.length < MAX_RESULTS_PER_REPORT) rep.results.push(r);
  };
  for (const { resource, result } of audit.objects) {
    const ns = namespaceOf(resource);
    if (ns === '') continue;
    for (const f of result.findings) {
      push(ns, {
        source: 'gloo-guard',
        policy: f.policy,
        result: f.action === 'deny' ? 'fail' : 'warn',
        severity: f.severity,
        message: f.message,
        properties: { path: f.path, object: f.object },
        resources: [resource],
        timestamp: ts,
      });
    }
    for (const e of result.exempted) {
      push(ns, {
        source: 'gloo-guard',
        policy: e.policy,
        result: 'skip',
        message: `exempted: ${e.reason}`,
        properties: { path: e.path },
        resources: [resource],
        timestamp: ts,
      });
    }
  }
  return [...reports.values()];
}
