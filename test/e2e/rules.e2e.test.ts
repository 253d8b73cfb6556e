// Rules in CEL on the real API server: a user rule refuses `helm upgrade` through real Helm 3 and 4,
// and the ValidatingAdmissionPolicies `gloo-guard vap` renders are accepted, type-checked and
// enforced by the API server alone, with no webhook registered.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { KubeRest } from '../../src/k8s/rest.js';
import {
  apply,
  attempt,
  CHARTS,
  type ClusterInfo,
  ensure,
  GLOO_GUARD,
  helm,
  kube,
  MAJORS,
  type RegisteredWebhook,
  releaseSecrets,
  ROOT,
  serveRegistered,
  VWC_PATH,
} from './support.js';

const info: ClusterInfo = inject('cluster');
const VAP = '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies';
const BINDING = '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings';

const RULE = {
  id: 'mgmt-server-cluster-ip',
  title: 'The management server is reached inside the cluster only',
  severity: 'high',
  appliesTo: ['release'],
  match: { families: ['gloo-mesh-enterprise'] },
  expression: "values.glooMeshMgmtServer.serviceType == 'ClusterIP'",
  messageExpression: "'the management server Service is ' + values.glooMeshMgmtServer.serviceType",
  path: 'glooMeshMgmtServer.serviceType',
  remediation: 'set glooMeshMgmtServer.serviceType: ClusterIP',
};

// The repository's production values for the 2.0 chart: every built-in policy passes them.
const PRODUCTION = `${ROOT}/test/fixtures/values/enterprise-production.yaml`;

let rest: KubeRest;
let webhook: RegisteredWebhook | undefined;
const rendered: Array<{ path: string; name: string }> = [];

beforeAll(() => {
  rest = kube(info);
});

afterAll(async () => {
  await webhook?.close();
  for (const r of rendered) await rest.call('DELETE', `${r.path}/${r.name}`);
});

describe('a user rule at admission', () => {
  beforeAll(async () => {
    webhook = await serveRegistered(rest, info, { config: { mode: 'enforce', rules: [RULE] } });
  });

  afterAll(async () => {
    await webhook?.close();
    webhook = undefined;
  });

  it.each(MAJORS)(
    'when helm %s upgrades to a NodePort management server, then the rule refuses it',
    (major) => {
      const ns = `gm-rule-${major}`;
      const values = PRODUCTION;
      const chart = `${CHARTS}/gloo-mesh-enterprise`;
      const install = helm(major, info, [
        'install',
        'gm',
        chart,
        '-n',
        ns,
        '--create-namespace',
        '-f',
        values,
        '--set',
        'glooMeshMgmtServer.serviceType=ClusterIP',
      ]);
      expect(install.out).toContain('STATUS: deployed');
      const upgrade = helm(major, info, [
        'upgrade',
        'gm',
        chart,
        '-n',
        ns,
        '-f',
        values,
        '--set',
        'glooMeshMgmtServer.serviceType=NodePort',
      ]);
      expect(upgrade.code).not.toBe(0);
      expect(upgrade.stderr).toContain('Error: UPGRADE FAILED');
      expect(upgrade.stderr).toContain(
        '[mgmt-server-cluster-ip] the management server Service is NodePort (glooMeshMgmtServer.serviceType) -> set glooMeshMgmtServer.serviceType: ClusterIP',
      );
      return releaseSecrets(rest, ns, 'gm').then((s) =>
        expect(s).toEqual([{ name: 'sh.helm.release.v1.gm.v1', status: 'deployed' }]),
      );
    },
  );
});

/** Retries until the API server's policy informer has the policy: it answers a refusal, or time is up. */
async function refused(
  call: () => Promise<{ status: number; message: string }>,
): Promise<{ status: number; message: string }> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const r = await call();
    if (r.status >= 400 || Date.now() > deadline) return r;
    await new Promise((res) => setTimeout(res, 250));
  }
}

/**
 * Waits until the API server no longer applies a release's policies after `helm uninstall`: its
 * informer lags the deletion, and the next test file creates the Gloo Mesh namespaces unlabelled.
 */
async function policiesGone(release: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  const dryRun = (): Promise<{ status: number; message: string }> =>
    attempt(rest, 'POST', '/api/v1/namespaces?dryRun=All', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'gloo-mesh-addons' },
    });
  for (;;) {
    const r = await dryRun();
    if (!r.message.includes(`'${release}-gloo-guard-`)) return;
    if (Date.now() > deadline)
      throw new Error(`the policies of ${release} still answer a minute after uninstall: ${r.message}`);
    await new Promise((res) => setTimeout(res, 250));
  }
}

describe('ValidatingAdmissionPolicies from gloo-guard vap, with no webhook', () => {
  beforeAll(async () => {
    const out = spawnSync(process.execPath, [GLOO_GUARD, 'vap', '--config', 'examples/rules/config.yaml'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(out.status).toBe(0);
    expect(out.stderr).toContain('rule mgmt-server-replicas stays with the webhook');
    for (const doc of parseAllDocuments(out.stdout)) {
      const obj = doc.toJS() as { kind: string; metadata: { name: string } };
      const path = obj.kind === 'ValidatingAdmissionPolicy' ? VAP : BINDING;
      await apply(rest, path, obj);
      rendered.push({ path, name: obj.metadata.name });
    }
  });

  it('when they are created, then the API server accepts each (it compiles every expression), and refuses broken CEL', async () => {
    // beforeAll created them all (apply throws on a refusal); the status controller that adds type
    // warnings runs in kube-controller-manager, which this cluster does not run.
    expect(rendered.filter((r) => r.path === VAP).length).toBeGreaterThanOrEqual(6);
    const broken = await attempt(rest, 'POST', VAP, {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name: 'gloo-guard-broken' },
      spec: {
        matchConstraints: {
          resourceRules: [
            { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['namespaces'] },
          ],
        },
        validations: [{ expression: 'object.metadata.name ==' }],
      },
    });
    expect(broken.status).toBe(422);
    expect(broken.message).toContain('compilation failed');
  });

  it('when gloo-mesh is labelled for injection, then the API server alone refuses it with the webhook message', async () => {
    const webhooks = (await rest.call('GET', VWC_PATH)).body as { items: unknown[] };
    expect(webhooks.items).toEqual([]);
    await ensure(rest, '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'gloo-mesh' },
    });
    const denied = await refused(() =>
      attempt(
        rest,
        'PATCH',
        '/api/v1/namespaces/gloo-mesh?dryRun=All',
        { metadata: { labels: { 'istio-injection': 'enabled' } } },
        'application/merge-patch+json',
      ),
    );
    expect(denied.status).toBe(403);
    expect(denied.message).toContain('ValidatingAdmissionPolicy');
    expect(denied.message).toContain(
      '[no-injection-in-gloo-mesh] namespace gloo-mesh is labelled for Istio injection (metadata.labels["istio-injection"]) -> remove the istio-injection label from namespace gloo-mesh',
    );
    const other = await attempt(rest, 'POST', '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'vap-shop', labels: { 'istio-injection': 'enabled' } },
    });
    expect(other.status).toBe(201);
  });

  it('when a gloo-mesh Deployment lacks a memory limit, then the user rule refuses it in the API server', async () => {
    const deployment = (name: string, limits: boolean) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: 'gloo-mesh' },
      spec: {
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: {
            containers: [
              {
                name: 'main',
                image: 'busybox',
                ...(limits ? { resources: { limits: { memory: '64Mi' } } } : {}),
              },
            ],
          },
        },
      },
    });
    const path = '/apis/apps/v1/namespaces/gloo-mesh/deployments';
    // A dry run passes admission without storing: retried until the policy is live, nothing is left behind.
    const denied = await refused(() =>
      attempt(rest, 'POST', `${path}?dryRun=All`, deployment('no-limits', false)),
    );
    expect(denied.status).toBe(403);
    expect(denied.message).toContain(
      '[gloo-mesh-container-limits] Deployment no-limits has containers without a memory limit: main (spec.template.spec.containers) -> set resources.limits.memory on every container of the pod template',
    );
    expect((await attempt(rest, 'POST', path, deployment('with-limits', true))).status).toBe(201);
    await rest.call('DELETE', `${path}/with-limits`);
  });
});

describe('ValidatingAdmissionPolicies installed by the chart (validatingAdmissionPolicies.enabled), with no webhook', () => {
  beforeAll(async () => {
    // Only the chart's policies may answer here: the ones `gloo-guard vap` created above go first.
    for (const r of rendered.splice(0)) await rest.call('DELETE', `${r.path}/${r.name}`);
  });

  it.each(MAJORS)(
    'when helm %s installs the chart and the API serves VAPs, then the API server alone refuses a labelled gloo-mesh Namespace',
    async (major) => {
      const release = `gg-vap-${major}`;
      const ns = `gloo-guard-vap-${major}`;
      const install = helm(major, info, [
        'install',
        release,
        `${ROOT}/charts/webhook`,
        '-n',
        ns,
        '--create-namespace',
        '-f',
        `${ROOT}/examples/rules/config.yaml`,
        '--set',
        'validatingAdmissionPolicies.enabled=true',
        // No webhook answers for Namespaces: the refusal can only be the policy's.
        '--set',
        'webhooks.namespaces.enabled=false',
      ]);
      expect(install.out).toContain('STATUS: deployed');
      try {
        // The webhook at zero: no pod could answer even if one were scheduled.
        await rest.call('PATCH', `/apis/apps/v1/namespaces/${ns}/deployments/${release}-gloo-guard/scale`, {
          body: { spec: { replicas: 0 } },
          contentType: 'application/merge-patch+json',
        });
        const hooks = (
          (await rest.call('GET', VWC_PATH)).body as { items: Array<{ webhooks?: Array<{ name: string }> }> }
        ).items
          .flatMap((c) => c.webhooks ?? [])
          .map((w) => w.name);
        expect(hooks).not.toContain('namespaces.gloo-guard.io');
        // Rendered because the real API server's discovery lists the API (.Capabilities.APIVersions).
        const policies = (await rest.call('GET', VAP)).body as {
          items: Array<{ metadata: { name: string } }>;
        };
        expect(policies.items.map((p) => p.metadata.name)).toContain(
          `${release}-gloo-guard-no-injection-in-gloo-mesh-namespace`,
        );
        await ensure(rest, '/api/v1/namespaces', {
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name: 'gloo-mesh' },
        });
        const policy = `${release}-gloo-guard-no-injection-in-gloo-mesh-namespace`;
        // Until this release's policy answers (the API server's informer may still hold another's).
        const denied = await refused(async () => {
          const r = await attempt(
            rest,
            'PATCH',
            '/api/v1/namespaces/gloo-mesh?dryRun=All',
            { metadata: { labels: { 'istio-injection': 'enabled' } } },
            'application/merge-patch+json',
          );
          return r.message.includes(policy) ? r : { status: 0, message: r.message };
        });
        expect(denied.status).toBe(403);
        expect(denied.message).toContain(
          `ValidatingAdmissionPolicy '${release}-gloo-guard-no-injection-in-gloo-mesh-namespace'`,
        );
        expect(denied.message).toContain(
          '[no-injection-in-gloo-mesh] namespace gloo-mesh is labelled for Istio injection (metadata.labels["istio-injection"]) -> remove the istio-injection label from namespace gloo-mesh',
        );
      } finally {
        expect(helm(major, info, ['uninstall', release, '-n', ns]).code).toBe(0);
        await policiesGone(release);
      }
    },
  );
});
