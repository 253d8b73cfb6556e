// The webhook proven where a user meets it: the real API server calls gloo-guard, real Helm prints the answer.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { KubeRest } from '../../src/k8s/rest.js';
import {
  attempt,
  CHARTS,
  type ClusterInfo,
  deploymentNames,
  ensure,
  helm,
  kube,
  MAJORS,
  type RegisteredWebhook,
  releaseSecrets,
  serveRegistered,
  tempFile,
  unregisterWebhook,
} from './support.js';

const info: ClusterInfo = inject('cluster');

const PRODUCTION = {
  prometheus: { enabled: false },
  prometheusUrl: 'http://prometheus-operated.monitoring:9090',
  glooMeshMgmtServer: {
    serviceType: 'ClusterIP',
    relay: { disableCa: true, disableCaCertGeneration: true },
  },
  glooMeshUi: {
    auth: {
      enabled: true,
      backend: 'oidc',
      oidc: {
        clientId: 'ui',
        clientSecretName: 'dashboard',
        issuerUrl: 'https://idp.example.com/',
        appUrl: 'https://ui.example.com',
      },
    },
  },
  glooMeshRedis: { enabled: false },
};

let rest: KubeRest;
let webhook: RegisteredWebhook | undefined;
let vwcName = '';

async function useWebhook(
  config: Record<string, unknown>,
  values: Record<string, unknown> = {},
): Promise<void> {
  await webhook?.stop();
  webhook = await serveRegistered(rest, info, { config, values });
  vwcName = webhook.vwcName;
}

beforeAll(async () => {
  rest = kube(info);
  await useWebhook({ mode: 'enforce' });
});

afterAll(async () => {
  await webhook?.close();
});

const enterprise = `${CHARTS}/gloo-mesh-enterprise`;

describe.each(MAJORS)('with helm %s', (major) => {
  const ns = `gm-${major}`;

  it('when a production-ready install is followed by `helm upgrade --set insecure=true`, then the upgrade is refused and the cluster keeps revision 1', async () => {
    const values = tempFile('prod.yaml', PRODUCTION);
    const install = helm(major, info, [
      'install',
      'gm',
      enterprise,
      '-n',
      ns,
      '--create-namespace',
      '-f',
      values,
    ]);
    expect(install.out).toContain('STATUS: deployed');
    expect(install.code).toBe(0);

    const upgrade = helm(major, info, [
      'upgrade',
      'gm',
      enterprise,
      '-n',
      ns,
      '-f',
      values,
      '--set',
      'insecure=true',
    ]);
    expect(upgrade.code).not.toBe(0);
    expect(upgrade.stderr).toContain('Error: UPGRADE FAILED');
    expect(upgrade.stderr).toContain('denied the request');
    expect(upgrade.stderr).toContain(
      '[no-insecure-relay] relay runs without mTLS because insecure is true (insecure) -> set insecure: false',
    );
    expect(upgrade.stderr).toMatch(/release .*gm.* revision 2/);

    expect(await releaseSecrets(rest, ns, 'gm')).toEqual([
      { name: 'sh.helm.release.v1.gm.v1', status: 'deployed' },
    ]);
    const status = helm(major, info, ['status', 'gm', '-n', ns]);
    expect(status.out).toMatch(/REVISION: 1/);
    expect(status.out).toContain('STATUS: deployed');
  });

  it('when an install keeps the chart defaults, then it is refused listing every denied policy and nothing is created', async () => {
    const target = `${ns}-defaults`;
    const r = helm(major, info, ['install', 'gm', enterprise, '-n', target, '--create-namespace']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('INSTALLATION FAILED');
    for (const line of [
      // The defaults generate a self-signed root: one finding, on the key that selects it (issue 12).
      '[no-default-relay-ca] management server generates a self-signed relay CA',
      '(glooMeshMgmtServer.relay.disableCaCertGeneration) -> set glooMeshMgmtServer.relay.disableCaCertGeneration: true',
      '[no-bundled-redis] the bundled Redis is enabled (glooMeshRedis.enabled)',
      '[no-bundled-prometheus] the bundled Prometheus is enabled (prometheus.enabled)',
    ]) {
      expect(r.stderr).toContain(line);
    }
    // Helm created the namespace (before the release Secret); nothing else exists.
    expect((await rest.call('GET', `/api/v1/namespaces/${target}`)).status).toBe(200);
    expect(await releaseSecrets(rest, target, 'gm')).toEqual([]);
    expect(await deploymentNames(rest, target)).toEqual([]);
  });

  it('when an already-violating release (installed before the webhook) is upgraded to good values and uninstalled, then nothing is wedged', async () => {
    const target = `${ns}-legacy`;
    await unregisterWebhook(rest, vwcName);
    const install = helm(major, info, ['install', 'gm', enterprise, '-n', target, '--create-namespace']);
    expect(install.code).toBe(0);
    await useWebhook({ mode: 'enforce' });

    const bad = helm(major, info, [
      'upgrade',
      'gm',
      enterprise,
      '-n',
      target,
      '--reuse-values',
      '--set',
      'devMode=true',
    ]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('[no-bundled-redis]');

    const good = helm(major, info, [
      'upgrade',
      'gm',
      enterprise,
      '-n',
      target,
      '-f',
      tempFile('prod.yaml', PRODUCTION),
    ]);
    expect(good.code).toBe(0);
    expect(await releaseSecrets(rest, target, 'gm')).toEqual([
      { name: 'sh.helm.release.v1.gm.v1', status: 'superseded' },
      { name: 'sh.helm.release.v1.gm.v2', status: 'deployed' },
    ]);

    const rollback = helm(major, info, ['rollback', 'gm', '1', '-n', target]);
    expect(rollback.code).not.toBe(0);
    expect(rollback.stderr).toContain('[no-bundled-redis]');
    expect(await releaseSecrets(rest, target, 'gm')).toEqual([
      { name: 'sh.helm.release.v1.gm.v1', status: 'superseded' },
      { name: 'sh.helm.release.v1.gm.v2', status: 'deployed' },
    ]);

    const uninstall = helm(major, info, ['uninstall', 'gm', '-n', target]);
    expect(uninstall.code).toBe(0);
    expect(await releaseSecrets(rest, target, 'gm')).toEqual([]);
  });

  it('when the webhook runs in audit mode, then the same upgrade succeeds and Helm shows the warnings', async () => {
    await useWebhook({ mode: 'audit' });
    try {
      const values = tempFile('prod.yaml', PRODUCTION);
      const r = helm(major, info, [
        'upgrade',
        'gm',
        enterprise,
        '-n',
        ns,
        '-f',
        values,
        '--set',
        'insecure=true',
      ]);
      expect(r.code).toBe(0);
      expect(r.out).toContain('STATUS: deployed');
      expect(r.stderr).toContain(
        '[no-insecure-relay] relay runs without mTLS because insecure is true (insecure)',
      );
    } finally {
      await useWebhook({ mode: 'enforce' });
    }
  });
});

describe('objects changed through the API, as kubectl does', () => {
  const ns = (name: string, labels: Record<string, string> = {}) => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels },
  });
  const redis = (namespace: string) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'gloo-mesh-redis', namespace },
    spec: {
      selector: { matchLabels: { app: 'redis' } },
      template: {
        metadata: { labels: { app: 'redis' } },
        spec: { containers: [{ name: 'redis', image: 'redis:7' }] },
      },
    },
  });

  const patchLabels = (name: string, labels: Record<string, string | null>) =>
    attempt(
      rest,
      'PATCH',
      `/api/v1/namespaces/${name}`,
      { metadata: { labels } },
      'application/merge-patch+json',
    );
  const create = (path: string, body: unknown) => attempt(rest, 'POST', path, body);

  it('when gloo-mesh is labelled for injection, then it is refused; another namespace may be labelled', async () => {
    await ensure(rest, '/api/v1/namespaces', ns('gloo-mesh'));
    const denied = await patchLabels('gloo-mesh', { 'istio-injection': 'enabled' });
    expect(denied.status).toBe(403);
    expect(denied.message).toContain(
      '[no-injection-in-gloo-mesh] namespace gloo-mesh is labelled for Istio injection',
    );
    await ensure(rest, '/api/v1/namespaces', ns('shop'));
    expect((await patchLabels('shop', { 'istio-injection': 'enabled' })).status).toBe(200);
  });

  it('when the injection label is removed from gloo-mesh-addons, then it is refused', async () => {
    // Labelled, whether created here or by another file (first-install): they share one API server.
    const created = await create(
      '/api/v1/namespaces',
      ns('gloo-mesh-addons', { 'istio-injection': 'enabled' }),
    );
    const labelled =
      created.status === 409
        ? await patchLabels('gloo-mesh-addons', { 'istio-injection': 'enabled' })
        : created;
    expect([201, 200]).toContain(labelled.status);
    const denied = await patchLabels('gloo-mesh-addons', { 'istio-injection': null });
    expect(denied.status).toBe(403);
    expect(denied.message).toContain('[addons-namespace-injection]');
    expect((await patchLabels('shop', { 'istio-injection': null })).status).toBe(200);
  });

  it('when gloo-mesh-redis is created in gloo-mesh, then it is refused; elsewhere it is allowed', async () => {
    const denied = await create('/apis/apps/v1/namespaces/gloo-mesh/deployments', redis('gloo-mesh'));
    expect(denied.status).toBe(403);
    expect(denied.message).toContain('[no-bundled-redis]');
    expect((await create('/apis/apps/v1/namespaces/shop/deployments', redis('shop'))).status).toBe(201);
  });
});

describe('when the webhook is down', () => {
  it.each(MAJORS)('then failurePolicy Fail refuses and Ignore lets Helm through (helm %s)', async (major) => {
    const target = `down-${major}`;
    const values = tempFile('prod.yaml', PRODUCTION);
    await useWebhook({ mode: 'enforce' }, { failurePolicy: 'Fail' });
    await webhook?.stop();
    const failed = helm(major, info, [
      'install',
      'gm',
      enterprise,
      '-n',
      target,
      '--create-namespace',
      '-f',
      values,
    ]);
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain('failed calling webhook');

    await useWebhook({ mode: 'enforce' }, { failurePolicy: 'Ignore' });
    await webhook?.stop();
    const passed = helm(major, info, [
      'install',
      'gm',
      enterprise,
      '-n',
      target,
      '--create-namespace',
      '-f',
      values,
    ]);
    expect(passed.code).toBe(0);
    await useWebhook({ mode: 'enforce' });
  });
});
