/**
 * The report CRDs as their projects publish them (see crds.ts):
 * - wgpolicyk8s.io/v1alpha2 PolicyReport: the manifest Kyverno ships and installs (Kyverno carries the
 *   wg-policy CRDs; the wg-policy-prototypes repository is not on the Go module proxy).
 * - openreports.io/v1alpha1 Report: the OpenReports project's own manifest.
 */
import type { ReportGroup } from '../../src/audit/policy-report.js';
import type { KubeRest } from '../../src/k8s/rest.js';
import { installCrd, publishedCrd, type CrdSource } from './crds.js';

/** Where each group's CRD is published: Go module, version, path inside the module. */
export const REPORT_CRD_SOURCES: Record<ReportGroup, CrdSource> = {
  'wgpolicyk8s.io': {
    module: 'github.com/kyverno/kyverno',
    version: 'v1.19.1',
    file: 'config/crds/policyreport/wgpolicyk8s.io_policyreports.yaml',
  },
  'openreports.io': {
    module: 'github.com/openreports/reports-api',
    version: 'v0.2.1',
    file: 'config/crd/openreports.io_reports.yaml',
  },
};

/** Installs the published CRD of `group` and waits until the API server serves it. */
export async function installReportCrd(rest: KubeRest, group: ReportGroup): Promise<void> {
  await installCrd(rest, publishedCrd(REPORT_CRD_SOURCES[group]));
}
