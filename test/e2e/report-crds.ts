/**
 * The report CRDs as their projects publish them, read from the Go module cache after a scripted
 * `go mod download` (as the e2e binaries are built from Go modules): nothing of them is committed.
 * - wgpolicyk8s.io/v1alpha2 PolicyReport: the manifest Kyverno ships and installs (Kyverno carries the
 *   wg-policy CRDs; the wg-policy-prototypes repository is not on the Go module proxy).
 * - openreports.io/v1alpha1 Report: the OpenReports project's own manifest.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { ReportGroup } from '../../src/audit/policy-report.js';
import type { KubeRest } from '../../src/k8s/rest.js';
import { apply } from './support.js';

/** Where each group's CRD is published: Go module, version, path inside the module. */
export const REPORT_CRD_SOURCES: Record<ReportGroup, { module: string; version: string; file: string }> = {
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

/** The published CRD manifest of `group`, downloaded into the Go module cache when missing. */
export function reportCrd(group: ReportGroup): Record<string, unknown> {
  const { module, version, file } = REPORT_CRD_SOURCES[group];
  const out = execFileSync('go', ['mod', 'download', '-json', `${module}@${version}`], {
    cwd: tmpdir(),
    encoding: 'utf8',
    env: { ...process.env, GOWORK: 'off', GOFLAGS: '', GO111MODULE: 'on' },
    timeout: 600_000,
  });
  const { Dir, Error: err } = JSON.parse(out) as { Dir?: string; Error?: string };
  if (Dir === undefined) throw new Error(`go mod download ${module}@${version}: ${err ?? 'no Dir'}`);
  return parse(readFileSync(join(Dir, file), 'utf8')) as Record<string, unknown>;
}

/** Installs the published CRD of `group` and waits until the API server serves it. */
export async function installReportCrd(rest: KubeRest, group: ReportGroup): Promise<void> {
  const crd = reportCrd(group);
  const name = (crd.metadata as { name: string }).name;
  const collection = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
  await apply(rest, collection, crd);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const r = await rest.call('GET', `${collection}/${name}`);
    const conditions = (r.body as { status?: { conditions?: Array<{ type: string; status: string }> } })
      .status?.conditions;
    if (conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return;
    await new Promise((res) => setTimeout(res, 250));
  }
  throw new Error(`the CRD ${name} was not established within 60 s`);
}
