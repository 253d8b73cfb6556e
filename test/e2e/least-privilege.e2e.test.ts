// Issue 15 items 8-12 on the real API server, with the webhook running under the token of the
// ServiceAccount the chart renders (its RBAC applied from `helm template`, its token from the
// TokenRequest API): a missing permission shows as a 403 in the logs, an excess one in a
// SubjectAccessReview. Also: one replica audits (Lease), the cache resumes its watches under
// churn, and the share of writes that reach the webhook before and after least reach.
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import type { KubeRest } from '../../src/k8s/rest.js';
import { installReportCrd } from './report-crds.js';
import {
  apply,
  type ClusterInfo,
  deployment,
  ensure,
  inParallel,
  kube,
  metricSum,
  namespace,
  registerWebhook,
  renderWebhookChart,
  serviceAccountKubeconfig,
  servingCert,
  startWebhook,
  unregisterWebhook,
  waitFor,
  type Webhook,
  webhookConfiguration,
  webhookMetrics,
} from './support.js';

const info: ClusterInfo = inject('cluster');
let rest: KubeRest;
const NS = 'gloo-guard';
const running: Webhook[] = [];

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } };

const RBAC = '/apis/rbac.authorization.k8s.io/v1';
function collection(o: Obj): string {
  const ns = o.metadata.namespace ?? NS;
  switch (o.kind) {
    case 'ServiceAccount':
      return `/api/v1/namespaces/${ns}/serviceaccounts`;
    case 'Role':
      return `${RBAC}/namespaces/${ns}/roles`;
    case 'RoleBinding':
      return `${RBAC}/namespaces/${ns}/rolebindings`;
    case 'ClusterRole':
      return `${RBAC}/clusterroles`;
    case 'ClusterRoleBinding':
      return `${RBAC}/clusterrolebindings`;
    case 'Lease':
      return `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`;
    default:
      throw new Error(`not applied: ${o.kind}`);
  }
}

/**
 * Renders the chart as release `release` with `values`, applies its ServiceAccount, RBAC and Lease,
 * and returns a kubeconfig holding a token the API server issued for that ServiceAccount.
 */
async function chartServiceAccount(release: string, values: Record<string, unknown>): Promise<string> {
  const objs = renderWebhookChart({ release, namespace: NS, values }) as Obj[];
  const wanted = ['ServiceAccount', 'Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding', 'Lease'];
  for (const o of objs.filter((x) => wanted.includes(x.kind))) await apply(rest, collection(o), o);
  const sa = objs.find((o) => o.kind === 'ServiceAccount')!.metadata.name;
  return serviceAccountKubeconfig(rest, info, NS, sa);
}

/** The chart's --audit-* and --cluster-view arguments, as its Deployment passes them. */
function chartArgs(release: string, values: Record<string, unknown>): string[] {
  const dep = renderWebhookChart({ release, namespace: NS, values }).find((o) => o.kind === 'Deployment') as
    { spec?: { template: { spec: { containers: Array<{ args: string[] }> } } } } | undefined;
  const args = dep!.spec!.template.spec.containers[0]!.args;
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--cluster-view' || a === '--policy-reports') out.push(a);
    if (['--audit-interval', '--audit-releases', '--audit-lease', '--namespace'].includes(a))
      out.push(a, args[i + 1]!);
  }
  return out;
}

async function serveAs(
  kubeconfig: string,
  args: string[],
  config: unknown = { mode: 'audit' },
): Promise<Webhook> {
  const w = await startWebhook({
    config,
    ...servingCert(info),
    extraArgs: args,
    env: { KUBECONFIG: kubeconfig },
  });
  running.push(w);
  return w;
}

const lines = (w: Webhook): Array<Record<string, unknown>> =>
  w.logs
    .join('\n')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
const has = (w: Webhook, msg: string): boolean => lines(w).some((l) => String(l.msg).startsWith(msg));
const forbidden = (w: Webhook): string[] =>
  lines(w)
    .filter((l) => /forbidden|HTTP 403/i.test(JSON.stringify(l)))
    .map((l) => JSON.stringify(l));

async function metric(w: Webhook, name: string): Promise<number> {
  return metricSum(await webhookMetrics(w, info.caPem), name);
}

beforeAll(async () => {
  rest = kube(info);
  // The real published PolicyReport CRD (the accept-anything stand-in is gone).
  await installReportCrd(rest, 'wgpolicyk8s.io');
  for (const n of [NS, 'gloo-mesh', 'gloo-mesh-addons', 'istio-system', 'lp-apps'])
    await ensure(rest, '/api/v1/namespaces', namespace(n));
  await unregisterWebhook(rest, 'gloo-guard');
});

afterAll(async () => {
  for (const w of running) await w.stop();
});

const AUDIT = {
  certificates: { mode: 'certManager' },
  clusterView: { enabled: true },
  audit: { enabled: true, interval: '10s' },
};

describe("the chart's ServiceAccount", () => {
  it('when two replicas run with its token, then both sync their caches, one holds the Lease and audits with no 403, and the other takes over when it stops', async () => {
    const kubeconfig = await chartServiceAccount('lp', AUDIT);
    const args = [...chartArgs('lp', AUDIT), '--audit-lease-duration', '6s'];
    expect(args.join(' ')).toContain('--audit-lease lp-gloo-guard-audit --namespace gloo-guard');
    const a = await serveAs(kubeconfig, args);
    const b = await serveAs(kubeconfig, args);
    const first = await waitFor('an audit', () => [a, b].find((w) => has(w, 'audit finished')));
    const second = first === a ? b : a;
    expect(has(first, 'acquired the audit lease')).toBe(true);
    expect(has(second, 'audit finished')).toBe(false);
    for (const w of [a, b]) {
      expect(has(w, 'cache of /apis/apps/v1/deployments listed')).toBe(true);
      expect(forbidden(w)).toEqual([]);
    }
    await first.stop();
    await waitFor('the other replica to audit', () => has(second, 'audit finished'), 60_000);
    expect(has(second, 'acquired the audit lease')).toBe(true);
    expect(forbidden(second)).toEqual([]);
    await second.stop();
  });

  it('when its permissions are asked about, then it may read release Secrets only in the Gloo Mesh namespaces and write only its own Lease', async () => {
    await chartServiceAccount('lp', AUDIT);
    const can = async (attrs: Record<string, string>): Promise<boolean> => {
      const r = await rest.call('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: { user: `system:serviceaccount:${NS}:lp-gloo-guard`, resourceAttributes: attrs },
        },
      });
      return (r.body as { status: { allowed: boolean } }).status.allowed;
    };
    expect(
      await can({
        verb: 'get',
        resource: 'secrets',
        namespace: 'gloo-mesh',
        name: 'sh.helm.release.v1.x.v1',
      }),
    ).toBe(true);
    expect(await can({ verb: 'list', resource: 'secrets', namespace: 'gloo-mesh-addons' })).toBe(true);
    expect(await can({ verb: 'list', resource: 'secrets' })).toBe(false);
    expect(await can({ verb: 'get', resource: 'secrets', namespace: 'default', name: 'anything' })).toBe(
      false,
    );
    expect(await can({ verb: 'watch', resource: 'secrets', namespace: 'lp-apps' })).toBe(false);
    expect(
      await can({
        verb: 'update',
        group: 'coordination.k8s.io',
        resource: 'leases',
        namespace: NS,
        name: 'lp-gloo-guard-audit',
      }),
    ).toBe(true);
    expect(
      await can({
        verb: 'update',
        group: 'coordination.k8s.io',
        resource: 'leases',
        namespace: NS,
        name: 'other',
      }),
    ).toBe(false);
    expect(
      await can({ verb: 'create', group: 'coordination.k8s.io', resource: 'leases', namespace: NS }),
    ).toBe(false);
    expect(
      await can({
        verb: 'update',
        group: 'apps',
        resource: 'deployments',
        namespace: 'gloo-mesh',
        name: 'x',
      }),
    ).toBe(false);
  });

  it('when release Secrets are switched off, then no Secret may be read and the audit runs without a single 403', async () => {
    const values = {
      ...AUDIT,
      clusterView: { enabled: false },
      audit: { ...AUDIT.audit, releaseSecrets: false },
    };
    const kubeconfig = await chartServiceAccount('lp-nosecrets', values);
    const args = chartArgs('lp-nosecrets', values);
    expect(args.join(' ')).toContain('--audit-releases none');
    const w = await serveAs(kubeconfig, args);
    await waitFor('an audit', () => has(w, 'audit finished') || has(w, 'audit failed'));
    expect(forbidden(w)).toEqual([]);
    expect(has(w, 'audit finished')).toBe(true);
    await w.stop();
  });
});

describe('the cluster view under churn', () => {
  it('when 2,000 Deployments are created, changed and removed while watches end and resume, then the cache lists once and follows every change', async () => {
    const kubeconfig = await chartServiceAccount('lp', AUDIT);
    for (let n = 0; n < 20; n++) await ensure(rest, '/api/v1/namespaces', namespace(`churn-${n}`));
    await inParallel(
      Array.from(
        { length: 2000 },
        (_, i) => () =>
          ensure(
            rest,
            `/apis/apps/v1/namespaces/churn-${i % 20}/deployments`,
            deployment(`d-${i}`, `churn-${i % 20}`),
          ),
      ),
    );
    const w = await serveAs(kubeconfig, ['--cluster-view', '--watch-timeout', '3s']);
    await waitFor('the first list', () => has(w, 'cache of /apis/apps/v1/deployments listed'));
    const resumedBefore = await metric(
      w,
      'gloo_guard_cluster_cache_watches_total{resource="deployments",from="resourceVersion"}',
    );
    // Churn: 300 updates, 100 deletions, 100 creations, across several watch timeouts.
    await inParallel(
      [
        ...Array.from(
          { length: 300 },
          (_, i) => () =>
            rest.call('PATCH', `/apis/apps/v1/namespaces/churn-${i % 20}/deployments/d-${i}`, {
              body: { metadata: { labels: { rev: '2' } } },
              contentType: 'application/merge-patch+json',
            }),
        ),
        ...Array.from(
          { length: 100 },
          (_, i) => () =>
            rest.call(
              'DELETE',
              `/apis/apps/v1/namespaces/churn-${(1000 + i) % 20}/deployments/d-${1000 + i}`,
            ),
        ),
        ...Array.from(
          { length: 100 },
          (_, i) => () =>
            ensure(
              rest,
              `/apis/apps/v1/namespaces/churn-${i % 20}/deployments`,
              deployment(`new-${i}`, `churn-${i % 20}`),
            ),
        ),
      ],
      8,
    );
    await waitFor(
      'two more resumed watches',
      async () =>
        (await metric(
          w,
          'gloo_guard_cluster_cache_watches_total{resource="deployments",from="resourceVersion"}',
        )) >=
        resumedBefore + 2,
    );
    expect(await metric(w, 'gloo_guard_cluster_cache_lists_total{resource="deployments"}')).toBe(1);
    // What the cache holds is what the API server holds: an audit counts the Deployments from it.
    await w.stop();
    expect(forbidden(w)).toEqual([]);
    expect(
      lines(w).filter((l) => String(l.msg).startsWith('cache of /apis/apps/v1/deployments listed')),
    ).toHaveLength(1);
  });
});

/** A busy cluster's writes: mostly other teams' Deployments and Namespaces, and the Gloo Mesh ones. */
async function busyWrites(tag: string): Promise<number> {
  const jobs: Array<() => Promise<unknown>> = [];
  for (let n = 0; n < 10; n++)
    jobs.push(() => ensure(rest, '/api/v1/namespaces', namespace(`${tag}-team-${n}`)));
  await inParallel(jobs);
  const writes: Array<() => Promise<unknown>> = [];
  for (let i = 0; i < 200; i++) {
    const where = `${tag}-team-${i % 10}`;
    writes.push(() =>
      ensure(rest, `/apis/apps/v1/namespaces/${where}/deployments`, deployment(`app-${i}`, where)),
    );
  }
  for (let i = 0; i < 100; i++) {
    const where = `${tag}-team-${i % 10}`;
    writes.push(() =>
      rest.call('PATCH', `/apis/apps/v1/namespaces/${where}/deployments/app-${i}`, {
        body: { metadata: { labels: { rollout: tag } } },
        contentType: 'application/merge-patch+json',
      }),
    );
  }
  for (let n = 0; n < 10; n++)
    writes.push(() =>
      rest.call('PATCH', `/api/v1/namespaces/${tag}-team-${n}`, {
        body: { metadata: { labels: { team: String(n) } } },
        contentType: 'application/merge-patch+json',
      }),
    );
  // The Gloo Mesh side: its namespaces, the management server, an agent, istiod, the bundled Prometheus.
  writes.push(() =>
    rest.call('PATCH', '/api/v1/namespaces/gloo-mesh', {
      body: { metadata: { labels: { touched: tag } } },
      contentType: 'application/merge-patch+json',
    }),
  );
  for (const [name, where] of [
    [`gloo-mesh-mgmt-server`, 'gloo-mesh'],
    [`prometheus-server`, 'gloo-mesh'],
    [`gloo-mesh-agent`, `${tag}-team-0`],
    [`istiod-${tag}`, 'istio-system'],
  ] as const)
    writes.push(() =>
      rest
        .call('PATCH', `/apis/apps/v1/namespaces/${where}/deployments/${name}`, {
          body: { metadata: { labels: { touched: tag } } },
          contentType: 'application/merge-patch+json',
        })
        .then(async (r) =>
          r.status === 404
            ? ensure(rest, `/apis/apps/v1/namespaces/${where}/deployments`, deployment(name, where))
            : r,
        ),
    );
  for (let i = 200; i < 230; i++)
    writes.push(() =>
      ensure(
        rest,
        `/apis/apps/v1/namespaces/gloo-mesh-addons/deployments`,
        deployment(`addon-${tag}-${i}`, 'gloo-mesh-addons'),
      ),
    );
  await inParallel(writes, 8);
  return writes.length + jobs.length;
}

describe('least reach', () => {
  it('when a busy mix of writes is made, then only those some policy judges reach the webhook', async () => {
    const w = await serveAs(info.kubeconfigPath, [], { mode: 'audit' });
    const reviews = (): Promise<number> => metric(w, 'gloo_guard_admission_requests_total{');
    const measure = async (
      tag: string,
      vwc: Record<string, unknown>,
    ): Promise<{ writes: number; reviews: number }> => {
      await registerWebhook(rest, vwc);
      const before = await reviews();
      const writes = await busyWrites(tag);
      return { writes, reviews: (await reviews()) - before };
    };
    const generated = webhookConfiguration({ url: w.url, caPem: info.caPem });
    const ungated = structuredClone(generated);
    for (const hook of ungated.webhooks as Array<{ matchConditions?: Array<{ name: string }> }>)
      hook.matchConditions = hook.matchConditions?.filter((c) => c.name !== 'judged-by-a-policy');
    const before = await measure('before', ungated);
    const after = await measure('after', generated);
    await unregisterWebhook(rest, 'gloo-guard');
    process.stderr.write(
      `[e2e] reach: before ${before.reviews}/${before.writes} writes (${((100 * before.reviews) / before.writes).toFixed(1)} %), ` +
        `after ${after.reviews}/${after.writes} (${((100 * after.reviews) / after.writes).toFixed(1)} %)\n`,
    );
    // Before: every Namespace and Deployment write; after: the Gloo Mesh namespaces' writes, the
    // management server, the agent, istiod and the add-ons (1 + 4 + 30 of them).
    expect(before.reviews).toBe(before.writes);
    expect(after.reviews).toBe(35);
  });
});
