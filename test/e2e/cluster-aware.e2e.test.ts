// What needs the cluster in view: self-managed certificates, cluster-aware policies, and the audit.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import type { KubeRest } from '../../src/k8s/rest.js';
import {
  askWebhook,
  attempt,
  CHARTS,
  type ClusterInfo,
  deployment,
  GLOO_GUARD,
  helm,
  kube,
  namespace,
  type RegisteredWebhook,
  registerWebhook,
  ROOT,
  serveRegistered,
  servingCert,
  startWebhook,
  tempFile,
  unregisterWebhook,
  waitFor,
  type Webhook,
  webhookConfiguration,
  webhookConfigsSeen,
  ensure as ensureIn,
} from './support.js';
import { installReportCrd } from './report-crds.js';
import { deploymentObject, objectReview } from '../fixtures/admission/reviews.js';

const info: ClusterInfo = inject('cluster');
let rest: KubeRest;
const platform = `${CHARTS}/gloo-platform`;

const MGMT = {
  glooMgmtServer: {
    enabled: true,
    serviceType: 'ClusterIP',
    relay: { disableCa: true, disableCaCertGeneration: true },
  },
  prometheus: { enabled: false },
  common: { prometheusUrl: 'http://prometheus.monitoring:9090' },
  redis: { deployment: { enabled: false } },
};

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Runs the real CLI's audit against the e2e cluster; reports its peak memory. */
function cliAudit(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string; peakRssMb: number }> {
  return cliAuditWith(['--kubeconfig', info.kubeconfigPath, ...args]);
}

/** Runs `gloo-guard audit ARGS` in a child process; reports its peak memory. */
function cliAuditWith(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string; peakRssMb: number }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', join(ROOT, 'test/e2e/report-rss.mjs'), GLOO_GUARD, 'audit', ...args],
      { cwd: ROOT },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => {
      const kb = Number(/PEAK_RSS_KB=(\d+)/.exec(stderr)?.[1] ?? 0);
      resolve({ code: code ?? -1, stdout, stderr, peakRssMb: Math.round(kb / 1024) });
    });
  });
}

const ensure = (path: string, body: unknown): Promise<void> => ensureIn(rest, path, body);

beforeAll(async () => {
  rest = kube(info);
  await installReportCrd(rest, 'wgpolicyk8s.io');
  await unregisterWebhook(rest, 'gloo-guard');
  for (const n of ['gloo-guard', 'gloo-mesh', 'istio-system', 'gloo-mesh-addons-bare'])
    await ensure('/api/v1/namespaces', namespace(n));
  // istiod exists before any webhook: the cluster-aware checks below meet it as a fact of the cluster.
  await ensure(
    '/apis/apps/v1/namespaces/istio-system/deployments',
    deployment('istiod', 'istio-system', { app: 'istiod' }),
  );
});

// The files share one cluster in an order vitest may change (it runs last run's failures and the
// longest files first): an istiod left behind makes every later management-plane install a
// dedicated-management-cluster denial (carriers.e2e.test.ts met it), so it goes with this file.
afterAll(async () => {
  await rest.call('DELETE', '/apis/apps/v1/namespaces/istio-system/deployments/istiod');
});

describe('self-managed certificates', () => {
  let webhook: Webhook | undefined;
  afterAll(async () => {
    await webhook?.stop();
    await unregisterWebhook(rest, 'gloo-guard-self');
  });

  it('when the server manages its certificate, then it stores it, patches the caBundle, the API server trusts it, and a forced CA rotation keeps admissions working', async () => {
    const port = await freePort();
    const vwc = webhookConfiguration({ url: `https://localhost:${port}/validate`, caPem: 'placeholder' });
    vwc.metadata = { name: 'gloo-guard-self' };
    for (const w of vwc.webhooks as Array<{ clientConfig: Record<string, unknown> }>)
      delete w.clientConfig.caBundle;
    await registerWebhook(rest, vwc);
    webhook = await startWebhook({
      config: { mode: 'enforce' },
      port,
      extraArgs: [
        '--self-managed-certs',
        '--tls-secret',
        'gloo-guard-tls',
        '--webhook-config',
        'gloo-guard-self',
        '--service',
        'gloo-guard',
        '--namespace',
        'gloo-guard',
        '--cert-dns-name',
        'localhost',
        '--cert-check-interval',
        '2s',
      ],
      env: { KUBECONFIG: info.kubeconfigPath },
    });
    const logs = webhook.logs;

    const secret = (await rest.call('GET', '/api/v1/namespaces/gloo-guard/secrets/gloo-guard-tls')).body as {
      data: Record<string, string>;
    };
    expect(Object.keys(secret.data).sort()).toEqual(['ca.crt', 'ca.key', 'tls.crt', 'tls.key']);
    const bundleOf = async () =>
      (
        (
          await rest.call(
            'GET',
            '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/gloo-guard-self',
          )
        ).body as { webhooks: Array<{ clientConfig: { caBundle?: string } }> }
      ).webhooks.map((w) => Buffer.from(w.clientConfig.caBundle ?? '', 'base64').toString());
    expect(new Set(await bundleOf())).toEqual(
      new Set([Buffer.from(secret.data['ca.crt']!, 'base64').toString()]),
    );

    // The API server calls the webhook over the self-managed certificate: a denial proves it trusts it.
    // The server patched the caBundle (read back above); the API server enforces it once it saw it.
    await webhookConfigsSeen(rest);
    const refused = await attempt(
      rest,
      'POST',
      '/apis/apps/v1/namespaces/gloo-mesh/deployments',
      deployment('prometheus-server', 'gloo-mesh'),
    );
    expect(refused.status).toBe(403);
    expect(refused.message).toContain('[no-bundled-prometheus]');

    // Force a CA rotation: an operator drops the CA key. Admissions keep being answered throughout:
    // ask until the server says it serves the new certificate and a run of answers came after that.
    await rest.call('PATCH', '/api/v1/namespaces/gloo-guard/secrets/gloo-guard-tls', {
      body: { data: { 'ca.key': null } },
      contentType: 'application/merge-patch+json',
    });
    const rotated = (): boolean => logs.join('').includes('self-managed certificate rotated');
    const answers: string[] = [];
    let afterRotation = 0;
    await waitFor(
      'the CA rotation and 10 admissions after it',
      async () => {
        const wasRotated = rotated();
        const r = await attempt(
          rest,
          'POST',
          '/apis/apps/v1/namespaces/gloo-mesh/deployments',
          deployment(`prometheus-server`, 'gloo-mesh'),
        );
        answers.push(
          r.status === 403 && r.message.includes('[no-bundled-prometheus]')
            ? 'denied-by-policy'
            : `${r.status} ${r.message}`,
        );
        if (wasRotated) afterRotation += 1;
        return afterRotation >= 10;
      },
      120_000,
      200,
    );
    expect(answers.length).toBeGreaterThan(afterRotation);
    expect(answers.filter((a) => a !== 'denied-by-policy')).toEqual([]);
    const bundle = (await bundleOf())[0] ?? '';
    expect(bundle.match(/BEGIN CERTIFICATE/g)?.length).toBe(2);
    expect(logs.join('')).toContain('self-managed certificate rotated');
  });
});

describe('cluster-aware policies', () => {
  let webhook: RegisteredWebhook;
  const withClusterView = { extraArgs: ['--cluster-view'], env: { KUBECONFIG: info.kubeconfigPath } };
  beforeAll(async () => {
    webhook = await serveRegistered(rest, info, { config: { mode: 'enforce' }, ...withClusterView });
  });
  afterAll(async () => {
    await webhook.stop();
  });

  it('when istiod runs in the cluster, then a management-plane install is refused', () => {
    const r = helm('v4', info, [
      'install',
      'mgmt',
      platform,
      '-n',
      'mgmt-istio',
      '--create-namespace',
      '-f',
      tempFile('mgmt.yaml', MGMT),
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      '[dedicated-management-cluster] the management plane would share a cluster with istio-system/istiod (cluster)',
    );
  });

  it('when an add-ons release goes into a namespace without injection, then it is refused against the real labels', async () => {
    const values = tempFile('addons.yaml', {
      common: { addonNamespace: 'gloo-mesh-addons-bare' },
      prometheus: { enabled: false },
      redis: { deployment: { enabled: false } },
      rateLimiter: { enabled: true },
    });
    const cfg = { mode: 'enforce', namespaces: { addons: 'gloo-mesh-addons-bare', management: 'gloo-mesh' } };
    await webhook.stop();
    webhook = await serveRegistered(rest, info, { config: cfg, ...withClusterView });
    const r = helm('v3', info, ['install', 'addons', platform, '-n', 'gloo-mesh-addons-bare', '-f', values]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      '[addons-namespace-injection] the add-ons namespace gloo-mesh-addons-bare is not labelled for Istio injection',
    );
  });
});

describe('the cluster view follows Deployments', () => {
  it('when a management server Deployment is created and then deleted, then istiod is refused while it runs and not after', async () => {
    // Unregistered, so the management server below is created without being judged itself.
    await unregisterWebhook(rest, 'gloo-guard');
    await ensureIn(rest, '/api/v1/namespaces', namespace('mgmt-indexed'));
    const webhook = await startWebhook({
      config: { mode: 'enforce' },
      extraArgs: ['--cluster-view'],
      env: { KUBECONFIG: info.kubeconfigPath },
    });
    const path = '/apis/apps/v1/namespaces/mgmt-indexed/deployments';
    const istiod = JSON.stringify(objectReview(deploymentObject('istiod-canary', 'istio-system')));
    const ca = readFileSync(webhook.caFile ?? '', 'utf8');
    const names = (m: string): boolean => m.includes('mgmt-indexed/gloo-mesh-mgmt-server');
    try {
      await rest.call('POST', path, { body: deployment('gloo-mesh-mgmt-server', 'mgmt-indexed') });
      // The watch delivers the new Deployment: the index the policy reads now names it.
      const refused = await waitFor('the cached management server', async () => {
        const a = await askWebhook(webhook, ca, istiod);
        return !a.allowed && names(a.message) ? a : undefined;
      });
      expect(refused.message).toContain(
        '[dedicated-management-cluster] istiod-canary would run in a management cluster',
      );
      await rest.call('DELETE', `${path}/gloo-mesh-mgmt-server`);
      // And the deletion: the index forgets it (another test's management server may still be named).
      await waitFor(
        'the deletion seen by the cache',
        async () => !names((await askWebhook(webhook, ca, istiod)).message),
      );
    } finally {
      await webhook.stop();
      await attempt(rest, 'DELETE', `${path}/gloo-mesh-mgmt-server`, undefined);
    }
  });
});

describe('the audit', () => {
  it('when a violating release runs, then the CLI audit and a PolicyReport show it, and fixing it clears both', async () => {
    await unregisterWebhook(rest, 'gloo-guard');
    const install = helm('v3', info, [
      'install',
      'legacy',
      platform,
      '-n',
      'audit-me',
      '--create-namespace',
      '-f',
      tempFile('bad.yaml', { ...MGMT, common: { ...MGMT.common, insecure: true } }),
    ]);
    expect(install.code).toBe(0);
    const webhook = await startWebhook({
      config: { mode: 'enforce' },
      ...servingCert(info),
      extraArgs: ['--audit-interval', '10s', '--policy-reports'],
      env: { KUBECONFIG: info.kubeconfigPath },
    });
    try {
      const report = await waitFor('a PolicyReport in audit-me', async () => {
        const r = await rest.call(
          'GET',
          '/apis/wgpolicyk8s.io/v1alpha2/namespaces/audit-me/policyreports/gloo-guard',
        );
        return r.status === 200
          ? (r.body as { results: Array<{ policy: string; result: string }> })
          : undefined;
      });
      expect(report.results.map((x) => `${x.policy} ${x.result}`)).toContain('no-insecure-relay fail');

      const cli = await cliAudit(['--output', 'json', '--quiet']);
      const out = JSON.parse(cli.stdout) as {
        violations: Array<{ policy: string; object: string }>;
        clusters: Array<{ role: string }>;
      };
      expect(out.violations.map((v) => `${v.policy} ${v.object}`)).toContain(
        'no-insecure-relay release audit-me/legacy (chart gloo-platform 2.4.3 revision 1)',
      );
      expect(out.clusters[0]!.role).toContain('management');

      expect(
        helm('v3', info, ['upgrade', 'legacy', platform, '-n', 'audit-me', '-f', tempFile('good.yaml', MGMT)])
          .code,
      ).toBe(0);
      await waitFor('the report to clear', async () => {
        const r = await rest.call(
          'GET',
          '/apis/wgpolicyk8s.io/v1alpha2/namespaces/audit-me/policyreports/gloo-guard',
        );
        const results = (r.body as { results?: Array<{ policy: string }> } | undefined)?.results ?? [];
        return r.status === 404 || !results.some((x) => x.policy === 'no-insecure-relay') ? true : undefined;
      });
      const after = JSON.parse((await cliAudit(['--output', 'json', '--quiet'])).stdout) as {
        violations: Array<{ policy: string; object: string }>;
      };
      expect(
        after.violations.filter(
          (v) => v.object.includes('audit-me/legacy') && v.policy === 'no-insecure-relay',
        ),
      ).toEqual([]);
    } finally {
      await webhook.stop();
    }
  });

  it('when several contexts are audited in one run, then each cluster shows with its role and cross-cluster findings appear', async () => {
    await ensure(
      '/apis/apps/v1/namespaces/gloo-mesh/deployments',
      deployment('gloo-mesh-mgmt-server', 'gloo-mesh'),
    );
    const kc = parse(readFileSync(info.kubeconfigPath, 'utf8')) as {
      contexts: Array<{ name: string; context: object }>;
      'current-context': string;
    };
    const base = kc.contexts[0]!;
    const two = {
      ...kc,
      contexts: [
        { ...base, name: 'mgmt-east' },
        { ...base, name: 'mgmt-west' },
      ],
      'current-context': 'mgmt-east',
    };
    const file = tempFile('kubeconfig', two);
    const child = await cliAuditWith(['--kubeconfig', file, '--all-contexts', '--output', 'json', '--quiet']);
    const out = JSON.parse(child.stdout) as {
      clusters: Array<{ name: string; role: string }>;
      crossCluster: Array<{ message: string }>;
    };
    expect(out.clusters.map((c) => `${c.name} ${c.role}`)).toEqual([
      'mgmt-east management',
      'mgmt-west management',
    ]);
    expect(out.crossCluster.map((c) => c.message)).toContain(
      '[cross-cluster] 2 management planes in one set (mgmt-east, mgmt-west) -> run one management plane and register every workload cluster with it',
    );
    const text = await cliAuditWith(['--kubeconfig', file, '--context', 'mgmt-west', '--quiet']);
    expect(text.stdout).toMatch(
      /^cluster mgmt-west: management; \d+ namespaces, \d+ deployments, \d+ Gloo Mesh releases/,
    );
    const unknown = await cliAuditWith(['--kubeconfig', file, '--context', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.split('\n')[0]).toBe(
      'gloo-guard: no context "nope" in the kubeconfig (known: mgmt-east, mgmt-west)',
    );
  });

  it('when a cluster holds 2,000 namespaces and 5,000 Deployments, then the CLI audit reads them all with bounded memory', async () => {
    const started = Date.now();
    const jobs: Array<() => Promise<void>> = [];
    for (let n = 0; n < 2000; n++) jobs.push(() => ensure('/api/v1/namespaces', namespace(`load-${n}`)));
    for (let d = 0; d < 5000; d++)
      jobs.push(() =>
        ensure(
          `/apis/apps/v1/namespaces/load-${d % 2000}/deployments`,
          deployment(`app-${d}`, `load-${d % 2000}`),
        ),
      );
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < jobs.length) await jobs[next++]!();
      }),
    );
    const createdIn = (Date.now() - started) / 1000;
    const audit = await cliAudit(['--output', 'json']);
    const out = JSON.parse(audit.stdout) as {
      clusters: Array<{ counts: { namespaces: number; deployments: number } }>;
    };
    expect(out.clusters[0]!.counts.namespaces).toBeGreaterThanOrEqual(2000);
    expect(out.clusters[0]!.counts.deployments).toBeGreaterThanOrEqual(5000);
    // Only the Deployments a policy matches are read whole, not all 5,000 again.
    const judged = /: (\d+) of (\d+) deployments are judged by a policy/.exec(audit.stderr);
    expect(Number(judged?.[2])).toBeGreaterThanOrEqual(5000);
    expect(Number(judged?.[1])).toBeLessThan(50);
    process.stderr.write(
      `[e2e] large cluster: created in ${createdIn.toFixed(0)} s; audit peak RSS ${audit.peakRssMb} MiB\n`,
    );
    expect(audit.peakRssMb).toBeGreaterThan(0);
    expect(audit.peakRssMb).toBeLessThan(400);
  });
});
