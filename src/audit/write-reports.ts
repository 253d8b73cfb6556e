/** Writes policy reports: one per namespace, replaced each audit, and removed where nothing is left to report. */
import { POLICY_REPORT_NAME, REPORT_APIS, type PolicyReport, type ReportGroup } from './policy-report.js';
import { KubeApiError, type KubeRest } from '../k8s/rest.js';

function groupPath(group: ReportGroup): string {
  return `/apis/${REPORT_APIS[group].apiVersion}`;
}

/** True when the report CRD of `group` is installed. */
export async function policyReportsAvailable(
  rest: KubeRest,
  group: ReportGroup = 'wgpolicyk8s.io',
): Promise<boolean> {
  return (await rest.call('GET', groupPath(group))).status === 200;
}

function path(group: ReportGroup, ns: string, name?: string): string {
  const base = `${groupPath(group)}/namespaces/${encodeURIComponent(ns)}/${REPORT_APIS[group].plural}`;
  return name ? `${base}/${encodeURIComponent(name)}` : base;
}

/** Attempts at one report before a conflict (409) counts as a failure. */
const CONFLICT_ATTEMPTS = 5;

/**
 * Creates or replaces one report. A 409 (someone wrote it between our read and our write, or
 * created it first) is read again and retried, never taken for success.
 */
async function writeOne(rest: KubeRest, report: PolicyReport, group: ReportGroup): Promise<void> {
  const ns = report.metadata.namespace;
  for (let attempt = 1; attempt <= CONFLICT_ATTEMPTS; attempt++) {
    const existing = await rest.call('GET', path(group, ns, POLICY_REPORT_NAME));
    const rv = (existing.body as { metadata?: { resourceVersion?: string } } | undefined)?.metadata
      ?.resourceVersion;
    const res =
      existing.status === 404
        ? await rest.call('POST', path(group, ns), { body: report })
        : await rest.call('PUT', path(group, ns, POLICY_REPORT_NAME), {
            body: { ...report, metadata: { ...report.metadata, resourceVersion: rv } },
          });
    if (res.status !== 409) return;
  }
  throw new KubeApiError(
    `${report.kind} ${ns}/${POLICY_REPORT_NAME}: still conflicting after ${CONFLICT_ATTEMPTS} attempts (HTTP 409)`,
    409,
  );
}

/** Creates or replaces each report, and deletes gloo-guard's reports in namespaces that no longer have one. */
export async function writePolicyReports(
  rest: KubeRest,
  reports: PolicyReport[],
  group: ReportGroup = 'wgpolicyk8s.io',
): Promise<{ written: number; deleted: number }> {
  const keep = new Set(reports.map((r) => r.metadata.namespace));
  for (const report of reports) await writeOne(rest, report, group);
  let deleted = 0;
  const stale: string[] = [];
  for await (const r of rest.list<{ metadata?: { namespace?: string; name?: string } }>(
    `${groupPath(group)}/${REPORT_APIS[group].plural}`,
    { labelSelector: 'app.kubernetes.io/managed-by=gloo-guard' },
  )) {
    const ns = r.metadata?.namespace ?? '';
    if (r.metadata?.name === POLICY_REPORT_NAME && !keep.has(ns)) stale.push(ns);
  }
  for (const ns of stale) {
    await rest.call('DELETE', path(group, ns, POLICY_REPORT_NAME));
    deleted += 1;
  }
  return { written: reports.length, deleted };
}
