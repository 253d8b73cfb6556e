/** Writes PolicyReports: one per namespace, replaced each audit, and removed where nothing is left to report. */
import { POLICY_REPORT_NAME, type PolicyReport } from '../audit/policy-report.js';
import type { KubeRest } from './rest.js';

const GROUP_PATH = '/apis/wgpolicyk8s.io/v1alpha2';

/** True when the PolicyReport CRD is installed. */
export async function policyReportsAvailable(rest: KubeRest): Promise<boolean> {
  return (await rest.call('GET', GROUP_PATH)).status === 200;
}

function path(ns: string, name?: string): string {
  return `${GROUP_PATH}/namespaces/${encodeURIComponent(ns)}/policyreports${name ? `/${encodeURIComponent(name)}` : ''}`;
}

/** Creates or replaces each report, and deletes gloo-guard's reports in namespaces that no longer have one. */
export async function writePolicyReports(
  rest: KubeRest,
  reports: PolicyReport[],
): Promise<{ written: number; deleted: number }> {
  const keep = new Set(reports.map((r) => r.metadata.namespace));
  for (const report of reports) {
    const ns = report.metadata.namespace;
    const existing = await rest.call('GET', path(ns, POLICY_REPORT_NAME));
    if (existing.status === 404) {
      await rest.call('POST', path(ns), { body: report });
    } else {
      const rv = (existing.body as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion;
      await rest.call('PUT', path(ns, POLICY_REPORT_NAME), {
        body: { ...report, metadata: { ...report.metadata, resourceVersion: rv } },
      });
    }
  }
  let deleted = 0;
  const stale: string[] = [];
  for await (const r of rest.list<{ metadata?: { namespace?: string; name?: string } }>(
    `${GROUP_PATH}/policyreports`,
    {
      labelSelector: 'app.kubernetes.io/managed-by=gloo-guard',
    },
  )) {
    const ns = r.metadata?.namespace ?? '';
    if (r.metadata?.name === POLICY_REPORT_NAME && !keep.has(ns)) stale.push(ns);
  }
  for (const ns of stale) {
    await rest.call('DELETE', path(ns, POLICY_REPORT_NAME));
    deleted += 1;
  }
  return { written: reports.length, deleted };
}
