// Policy reports against the CRDs their projects publish: the API server stores what gloo-guard writes,
// field for field (nothing pruned), in both groups, from the CLI audit and from the webhook's own audit.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parse, stringify } from 'yaml';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { REPORT_APIS, type ReportGroup } from '../../src/audit/policy-report.js';
import type { KubeRest } from '../../src/k8s/rest.js';
import { launch, open } from '../helpers/browser.js';
import { installReportCrd } from './report-crds.js';
import {
  CHARTS,
  type ClusterInfo,
  ensure,
  GLOO_GUARD,
  helm,
  kube,
  namespace,
  ROOT,
  servingCert,
  startWebhook,
  tempFile,
  unregisterWebhook,
  waitFor,
  webhookMetrics,
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
    await ensure(rest, '/api/v1/namespaces', namespace(NS));
    const webhook = await startWebhook({
      config: { mode: 'enforce' },
      ...servingCert(info),
      extraArgs: ['--audit-interval', '10s', '--policy-reports', '--reports-api', 'openreports.io'],
      env: { KUBECONFIG: info.kubeconfigPath },
    });
    try {
      const report = await waitFor('a Report from the webhook', () => stored('openreports.io'));
      expectInsecureRelayResult(report);
      const metrics = await webhookMetrics(webhook, info.caPem);
      expect(metrics).toMatch(/^gloo_guard_audit_interval_seconds 10$/m);
      const last = Number(/^gloo_guard_audit_last_run_timestamp_seconds (\S+)$/m.exec(metrics)?.[1]);
      expect(last).toBeGreaterThan(Date.now() / 1000 - 120);
    } finally {
      await webhook.stop();
    }
  });
});

/** The e2e kubeconfig with a second context to the same API server: a fleet of two, as `--all-contexts` reads it. */
function fleetKubeconfig(): string {
  const kc = parse(readFileSync(info.kubeconfigPath, 'utf8')) as {
    contexts: Array<{ name: string; context: Record<string, string> }>;
    'current-context': string;
  };
  const first = kc.contexts[0]!;
  kc.contexts = [
    { name: 'east', context: first.context },
    { name: 'west', context: first.context },
  ];
  kc['current-context'] = 'east';
  return tempFile('fleet-kubeconfig', stringify(kc));
}

interface AuditJson {
  violations: Array<{ policy: string; action: string; object: string }>;
}

describe('the fleet page of a real cluster (audit --all-contexts --output html)', () => {
  const kubeconfig = fleetKubeconfig();
  const audit = (args: string[]) =>
    spawnSync(process.execPath, [GLOO_GUARD, 'audit', '--kubeconfig', kubeconfig, '--quiet', ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120_000,
    });
  /** What a JSON audit of one context finds: the truth the page must show for that cluster. */
  const truthOf = (context: string): AuditJson =>
    JSON.parse(audit(['--context', context, '--output', 'json']).stdout) as AuditJson;

  it('when the fleet is audited, then one self-contained page lists each cluster and the violations the cluster has', async () => {
    const html = audit(['--all-contexts', '--output', 'html']);
    expect(html.stderr).toBe('');
    // Exit code 1: the cluster holds a release that would be refused.
    expect(html.status).toBe(1);
    expect(html.stdout).toMatch(/^<!doctype html>/i);
    expect(html.stdout).not.toMatch(/\b(?:src|href)="(?:https?:)?\/\//);
    const file = tempFile('fleet.html', html.stdout);
    const truth = { east: truthOf('east'), west: truthOf('west') };
    expect(truth.east.violations.some((v) => v.object.startsWith(`release ${NS}/insecure `))).toBe(true);

    const browser = await launch();
    try {
      const { page, log } = await open(browser, pathToFileURL(file).href);
      expect(log.consoleErrors).toEqual([]);
      expect(log.pageErrors).toEqual([]);
      expect(log.requests).toEqual([pathToFileURL(file).href]);
      const head = await page.$$eval('table.matrix thead th', (ths) =>
        ths.map((t) => t.firstChild?.textContent),
      );
      expect(head).toEqual(['Policy', 'east', 'west']);
      const rows = await page.$$eval('table.matrix tbody tr', (trs) =>
        trs.map((tr) => Array.from(tr.children, (c) => (c as HTMLElement).innerText.split('\n')[0] ?? '')),
      );
      // Each cell's denial count is what the JSON audit of that cluster finds for that policy.
      const cells = rows.map((r) => [r[0], ...r.slice(1).map(denials)]);
      const expected = rows.map((r) => [
        r[0],
        ...(['east', 'west'] as const).map(
          (c) => truth[c].violations.filter((v) => v.policy === r[0] && v.action === 'deny').length,
        ),
      ]);
      expect(cells).toEqual(expected);
      const text = await page.$eval('body', (b) => b.textContent ?? '');
      expect(text).toContain('2 clusters audited');
      for (const v of [...truth.east.violations, ...truth.west.violations]) expect(text).toContain(v.object);
    } finally {
      await browser.close();
    }
  });
});

/** The number of denials a matrix cell shows ("2 denied 1 warn", "✓", "not judged"). */
function denials(cell: string): number {
  return Number(/^(\d+) denied/.exec(cell)?.[1] ?? 0);
}
