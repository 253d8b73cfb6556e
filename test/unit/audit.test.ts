import { catalogFor } from '../../src/engine/charts/catalog.js';
import { describe, expect, it } from 'vitest';
import { auditCluster, latestRevisions } from '../../src/audit/audit.js';
import { crossClusterFindings } from '../../src/audit/cross-cluster.js';
import { buildPolicyReports } from '../../src/audit/policy-report.js';
import { parseConfig } from '../../src/config/load.js';
import { defaultConfig } from '../../src/config/types.js';
import { releaseSecret } from '../../src/helm/release.js';
import { staticSource } from '../helpers/static-source.js';

const ns = (name: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels },
});
const deploy = (name: string, namespace: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace, labels, uid: `uid-${name}` },
  spec: { template: { spec: { containers: [{ name, image: `${name}:1` }] } } },
});
const rel = (
  name: string,
  chart: string,
  version: number,
  config: Record<string, unknown>,
  namespace = 'gloo-mesh',
  status = 'deployed',
) =>
  releaseSecret({
    name,
    namespace,
    version,
    info: { status },
    // The chart's own values.yaml, as the catalog knows it: a release is judged on its chart's values.
    chart: {
      metadata: { name: chart, version: '2.4.3' },
      values: catalogFor('gloo-platform', '2.4.3').catalog.defaults,
    },
    config,
  } as never);

const MGMT_VALUES = {
  glooMgmtServer: {
    enabled: true,
    serviceType: 'ClusterIP',
    relay: { disableCa: true, disableCaCertGeneration: true },
  },
  prometheus: { enabled: false },
  common: { prometheusUrl: 'http://prom.monitoring:9090' },
  redis: { deployment: { enabled: false } },
};

describe('audit of one cluster', () => {
  it('when releases have several revisions, then only the latest of each is judged', () => {
    const refs = [1, 3, 2].map((v) => ({
      name: `sh.helm.release.v1.a.v${v}`,
      namespace: 'gloo-mesh',
      labels: { name: 'a', version: String(v) },
    }));
    expect(latestRevisions(refs).map((r) => r.name)).toEqual(['sh.helm.release.v1.a.v3']);
  });

  it('when a cluster runs a violating management release and istiod, then both show, with the role', async () => {
    const src = staticSource('mgmt', [
      ns('gloo-mesh'),
      ns('istio-system'),
      deploy('gloo-mesh-mgmt-server', 'gloo-mesh', { app: 'gloo-mesh-mgmt-server' }),
      deploy('istiod', 'istio-system', { app: 'istiod' }),
      rel(
        'gm',
        'gloo-platform',
        1,
        { ...MGMT_VALUES, common: { insecure: true } },
        'gloo-mesh',
        'superseded',
      ),
      rel('gm', 'gloo-platform', 2, MGMT_VALUES),
    ]);
    const a = await auditCluster(src, defaultConfig());
    expect(a.role).toBe('management');
    expect(a.counts).toEqual({ namespaces: 2, deployments: 2, releases: 1 });
    const found = a.objects.flatMap((o) =>
      o.result.findings.map((f) => `${o.resource.kind}/${o.resource.name} ${f.policy} ${f.path}`),
    );
    expect(found.sort()).toEqual([
      'Deployment/gloo-mesh-mgmt-server dedicated-management-cluster metadata.name',
      'Deployment/gloo-mesh-mgmt-server mgmt-server-scrape-annotations spec.template.metadata.annotations["prometheus.io/path"]',
      'Deployment/gloo-mesh-mgmt-server mgmt-server-scrape-annotations spec.template.metadata.annotations["prometheus.io/port"]',
      'Deployment/gloo-mesh-mgmt-server mgmt-server-scrape-annotations spec.template.metadata.annotations["prometheus.io/scrape"]',
      'Deployment/gloo-mesh-mgmt-server mgmt-server-scrape-annotations spec.template.metadata.annotations["sidecar.istio.io/inject"]',
      'Deployment/istiod dedicated-management-cluster metadata.name',
      'Secret/sh.helm.release.v1.gm.v2 dedicated-management-cluster cluster',
      'Secret/sh.helm.release.v1.gm.v2 relay-custom-certs glooMgmtServer.relay.tlsSecret.name',
    ]);
    const certs = a.objects
      .flatMap((o) => o.result.findings)
      .filter((f) => f.policy === 'relay-custom-certs');
    expect(
      certs.every((f) => f.action === 'warn' && f.message.includes('does not exist in namespace gloo-mesh')),
    ).toBe(true);
  });

  it('when a release Secret is corrupt, then the audit reports an error and goes on', async () => {
    const bad = rel('gm', 'gloo-platform', 1, {});
    bad.data.release = 'bm90IGd6aXA=';
    const a = await auditCluster(
      staticSource('c', [ns('gloo-mesh'), bad, deploy('gloo-mesh-redis', 'gloo-mesh')]),
      defaultConfig(),
    );
    expect(a.errors).toEqual([
      {
        source: 'c/secret gloo-mesh/sh.helm.release.v1.gm.v1',
        message: 'Secret sh.helm.release.v1.gm.v1: release payload is not valid base64',
      },
    ]);
    expect(a.objects.some((o) => o.result.findings.some((f) => f.policy === 'no-bundled-redis'))).toBe(true);
  });
  it('when the config has a rule, then the audit judges with it as check and the webhook do', async () => {
    const config = parseConfig(
      [
        'rules:',
        '  - id: relay-internal-dns',
        '    title: Relay addresses use our internal DNS zone',
        '    severity: high',
        '    appliesTo: [release]',
        '    expression: |',
        '      !has(values.glooAgent.relay.serverAddress) ||',
        '      values.glooAgent.relay.serverAddress.endsWith(".internal.example.com:9900")',
        '    message: the relay address is outside internal.example.com',
        '    path: glooAgent.relay.serverAddress',
        '    remediation: use the management server name in internal.example.com',
      ].join('\n'),
      'cfg.yaml',
    );
    const src = staticSource('w1', [
      ns('gloo-mesh'),
      rel('agent', 'gloo-platform', 1, {
        glooAgent: { enabled: true, relay: { serverAddress: 'mgmt.example.org:9900' } },
      }),
    ]);
    const audit = await auditCluster(src, config);
    const policies = audit.objects.flatMap((o) => o.result.findings.map((f) => f.policy));
    expect(policies).toContain('relay-internal-dns');
  });
});

describe('PolicyReports', () => {
  it('when an audit has findings, then each namespace gets one report with fail/warn results and a summary', async () => {
    const a = await auditCluster(
      staticSource('c', [
        ns('gloo-mesh', { 'istio-injection': 'enabled' }),
        ns('quiet'),
        deploy('gloo-mesh-redis', 'gloo-mesh'),
        deploy('web', 'quiet'),
      ]),
      defaultConfig(),
    );
    const reports = buildPolicyReports(a, new Date('2026-11-28T00:00:00Z'));
    expect(reports.map((r) => r.metadata.namespace)).toEqual(['gloo-mesh']);
    const [r] = reports;
    expect(r!.metadata.name).toBe('gloo-guard');
    expect(r!.summary).toEqual({ pass: 0, fail: 2, warn: 0, error: 0, skip: 0 });
    expect(r!.results.map((x) => `${x.policy} ${x.result} ${x.resources[0]!.kind}`)).toEqual([
      'no-injection-in-gloo-mesh fail Namespace',
      'no-bundled-redis fail Deployment',
    ]);
    expect(r!.results[1]!.resources[0]).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'gloo-mesh-redis',
      namespace: 'gloo-mesh',
      uid: 'uid-gloo-mesh-redis',
    });
    expect(r!.results[1]).toMatchObject({
      source: 'gloo-guard',
      rule: 'no-bundled-redis',
      category: 'Gloo Mesh',
      severity: expect.any(String),
      properties: {
        path: expect.any(String),
        fix: expect.any(String),
        object: 'Deployment gloo-mesh/gloo-mesh-redis',
      },
    });
    expect(r!.results[1]!.message).toContain(`-> ${r!.results[1]!.properties.fix}`);
  });

  it('when OpenReports are asked for, then the same results go in openreports.io/v1alpha1 Reports', async () => {
    const a = await auditCluster(
      staticSource('c', [ns('gloo-mesh'), deploy('gloo-mesh-redis', 'gloo-mesh')]),
      defaultConfig(),
    );
    const now = new Date('2026-11-28T00:00:00Z');
    const [wg] = buildPolicyReports(a, now);
    const [open] = buildPolicyReports(a, now, 'openreports.io');
    expect(`${open!.apiVersion} ${open!.kind}`).toBe('openreports.io/v1alpha1 Report');
    expect(`${wg!.apiVersion} ${wg!.kind}`).toBe('wgpolicyk8s.io/v1alpha2 PolicyReport');
    expect(open!.results).toEqual(wg!.results);
  });

  it('when a policy fails to run, then its report has an error result, not a violation', async () => {
    const a = await auditCluster(staticSource('c', [ns('gloo-mesh')]), defaultConfig());
    a.objects[0]!.result.errors.push({
      policy: 'p',
      object: 'Namespace gloo-mesh',
      message: 'policy p failed: boom',
    });
    const [r] = buildPolicyReports(a, new Date());
    expect(r!.summary.error).toBe(1);
    expect(r!.results.map((x) => `${x.policy} ${x.result} ${x.message}`)).toContain(
      'p error policy p failed: boom',
    );
  });
});

describe('audit across clusters', () => {
  const mgmtCluster = (name: string, lb: string) =>
    staticSource(name, [
      ns('gloo-mesh'),
      deploy('gloo-mesh-mgmt-server', 'gloo-mesh'),
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'gloo-mesh-mgmt-server', namespace: 'gloo-mesh' },
        spec: { type: 'ClusterIP' },
        status: { loadBalancer: { ingress: [{ hostname: lb }] } },
      },
    ] as never);
  const workload = (name: string, addr: string) =>
    staticSource(name, [
      ns('gloo-mesh'),
      deploy('gloo-mesh-agent', 'gloo-mesh'),
      rel('agent', 'gloo-platform', 1, { glooAgent: { enabled: true, relay: { serverAddress: addr } } }),
    ]);

  it('when an agent relays to the management cluster of the set, then nothing crosses clusters', async () => {
    const audits = [
      await auditCluster(mgmtCluster('mgmt', 'mgmt.example.com'), defaultConfig()),
      await auditCluster(workload('w1', 'mgmt.example.com:9900'), defaultConfig()),
    ];
    expect(audits.map((a) => a.role)).toEqual(['management', 'workload']);
    expect(crossClusterFindings(audits)).toEqual([]);
  });

  it('when an agent relays elsewhere and two management planes exist, then both are reported', async () => {
    const audits = await Promise.all(
      [
        mgmtCluster('m1', 'a.example.com'),
        mgmtCluster('m2', 'b.example.com'),
        workload('w1', 'c.example.com:9900'),
      ].map((s) => auditCluster(s, defaultConfig())),
    );
    expect(crossClusterFindings(audits).map((f) => f.message)).toEqual([
      '[cross-cluster] 2 management planes in one set (m1, m2) -> run one management plane and register every workload cluster with it',
      "[cross-cluster] agent release gloo-mesh/agent in w1 relays to c.example.com:9900, which is no management cluster of this set (m1, m2) -> point relay.serverAddress at the management server's address",
    ]);
  });
});
