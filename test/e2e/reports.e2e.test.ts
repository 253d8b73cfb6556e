// Policy reports against the CRDs their projects publish: the API server stores what gloo-guard writes,
// field for field (nothing pruned), in both groups, from the CLI audit and from the webhook's own audit.
import { spawnSync } from 'node:child_process';
import { request } from 'node:https';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { REPORT_APIS, type ReportGroup } from '../../src/audit/policy-report.js';
import type { KubeRest } from '../../src/k8s/rest.js';
import { installReportCrd } from './report-crds.js';
import {
  CHARTS,
  ensure,
  GLOO_GUARD,
  helm,
  kube,
  ROOT,
  startWebhook,
  tempFile,
  unregisterWebhook,
  type ClusterInfo,
} from './support.js';

const info: ClusterInfo = inject('cluster');
let rest: KubeRest;
const NS = 'reports-e2e';

/** A management plane with relay mTLS switched off: one `no-insecure-relay` denial to report. */
const INSECURE = {
  glooMgmtServer: {
    enabled: true,
    serviceType: 'ClusterIP',
    relay: { disableCa: true, disableCaCertGeneration: true },
  },
  prometheus: { enabled: false },
  common: { prometheusUrl: 'http://prometheus.monitoring:9090', insecure: true },
  redis: { deployment: { enabled: false } },
};

function reportPath(group: ReportGroup): string {
  const { apiVersion, plural } = REPORT_APIS[group];
  return `/apis/${apiVersion}/namespaces/${NS}/${plural}/gloo-guard`;
}

interface StoredReport {
  apiVersion: string;
  kind: string;
  summary: Record<string, number>;
  results: Array<Record<string, unknown> & { policy: string; result: string }>;
}

async function stored(group: ReportGroup): Promise<StoredReport | undefined> {
  const r = await rest.call('GET', reportPath(group));
  return r.status === 200 ? (r.body as StoredReport) : undefined;
}

function audit(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(
    process.execPath,
    [GLOO_GUARD, 'audit', '--kubeconfig', info.kubeconfigPath, '--quiet', ...args],
    { cwd: ROOT, encoding: 'utf8', timeout: 120_000 },
  );
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** What gloo-guard writes for the insecure relay; the API server must give back every field. */
function expectInsecureRelayResult(report: StoredReport): void {
  const result = report.results.find(
    (x) => x.policy === 'no-insecure-relay' && (x.resources as Array<{ kind: string }>)[0]?.kind === 'Secret',
  );
  expect(result).toEqual({
    source: 'gloo-guard',
    policy: 'no-insecure-relay',
    rule: 'no-insecure-relay',
    category: 'Gloo Mesh',
    result: 'fail',
    severity: 'critical',
    message: expect.stringMatching(/^\[no-insecure-relay\] .*\(common\.insecure\) -> .*insecure: false/),
    properties: {
      path: 'common.insecure',
      fix: expect.stringContaining('insecure: false'),
      object: 'release reports-e2e/insecure (chart gloo-platform 2.4.3 revision 1)',
    },
    resources: [
      {
        apiVersion: 'v1',
        kind: 'Secret',
        name: 'sh.helm.release.v1.insecure.v1',
        namespace: NS,
        uid: expect.stringMatching(/^[0-9a-f-]{36}$/),
      },
    ],
    timestamp: { seconds: expect.any(Number), nanos: 0 },
  });
}

beforeAll(async () => {
  rest = kube(info);
  await unregisterWebhook(rest, 'gloo-guard');
  await installReportCrd(rest, 'wgpolicyk8s.io');
  await installReportCrd(rest, 'openreports.io');
  const install = helm('v3', info, [
    'install',
    'insecure',
    `${CHARTS}/gloo-platform`,
    '-n',
    NS,
    '--create-namespace',
    '-f',
    tempFile('insecure.yaml', INSECURE),
  ]);
  expect(install.code, install.out).toBe(0);
});

describe('reports accepted by the published CRD schemas', () => {
  it.each(['wgpolicyk8s.io', 'openreports.io'] as const)(
    'when the CLI audit writes %s reports, then the API server stores every field of every result',
    async (group) => {
      const args = ['--write-reports', ...(group === 'openreports.io' ? ['--reports-api', group] : [])];
      const run = audit([...args, '--output', 'json']);
      expect(run.stderr).toBe('');
      const { apiVersion, kind } = REPORT_APIS[group];
      const out = JSON.parse(run.stdout) as { policyReports: string[] };
      expect(out.policyReports[0]).toMatch(new RegExp(`^\\S+: \\d+ ${kind}s \\(${apiVersion}\\) written`));
      const report = await stored(group);
      expect(report).toBeDefined();
      expect(report!.apiVersion).toBe(apiVersion);
      expect(report!.kind).toBe(kind);
      expectInsecureRelayResult(report!);
      expect(report!.summary.fail).toBe(report!.results.filter((x) => x.result === 'fail').length);
    },
  );

  it.each(['wgpolicyk8s.io', 'openreports.io'] as const)(
    'when a %s result breaks the published schema, then the API server refuses it (the schema is enforced)',
    async (group) => {
      const { apiVersion, kind, plural } = REPORT_APIS[group];
      const r = await rest
        .call('POST', `/apis/${apiVersion}/namespaces/${NS}/${plural}`, {
          body: {
            apiVersion,
            kind,
            metadata: { name: 'not-gloo-guard' },
            results: [{ policy: 'p', result: 'failed', severity: 'urgent' }],
          },
        })
        .then(
          () => 'accepted',
          (err: unknown) => String(err),
        );
      expect(r).toContain('Unsupported value: "failed"');
      expect(r).toContain('Unsupported value: "urgent"');
    },
  );

  it('when the webhook audits with --reports-api openreports.io, then it writes a Report and exports when it last audited', async () => {
    await rest.call('DELETE', reportPath('openreports.io'));
    await ensure(rest, '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    const webhook = await startWebhook({
      config: { mode: 'enforce' },
      certFile: tempFile('tls.crt', info.servingCertPem),
      keyFile: tempFile('tls.key', info.servingKeyPem),
      extraArgs: ['--audit-interval', '10s', '--policy-reports', '--reports-api', 'openreports.io'],
      env: { KUBECONFIG: info.kubeconfigPath },
    });
    try {
      let report: StoredReport | undefined;
      for (let i = 0; i < 120 && report === undefined; i++) {
        report = await stored('openreports.io');
        if (report === undefined) await new Promise((res) => setTimeout(res, 500));
      }
      expect(report, 'a Report from the webhook within 60 s').toBeDefined();
      expectInsecureRelayResult(report!);
      const metrics = await scrape(webhook.url.replace(/\/validate$/, '/metrics'), info.caPem);
      expect(metrics).toMatch(/^gloo_guard_audit_interval_seconds 10$/m);
      const last = Number(/^gloo_guard_audit_last_run_timestamp_seconds (\S+)$/m.exec(metrics)?.[1]);
      expect(last).toBeGreaterThan(Date.now() / 1000 - 120);
    } finally {
      await webhook.stop();
    }
  });
});

function scrape(url: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request(url, { ca }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
    })
      .on('error', reject)
      .end();
  });
}
