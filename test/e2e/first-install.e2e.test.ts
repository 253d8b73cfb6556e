// A newcomer's first install on the real API server, as the README gives it: `helm install` of the
// chart, with no webhook pod ever running (no kubelet here: the Deployment is stored, nothing runs it).
// In audit mode the chart renders failurePolicy Ignore, so writes in the webhook's scope (Deployments,
// Namespaces, Helm release Secrets) still succeed, and the API server's own fail-open counter shows it
// did try the webhook. In enforce mode (failurePolicy Fail) the same writes are refused, as NOTES.txt
// warns.
import { request, type RequestOptions } from 'node:https';
import { Kubeconfig } from '../../src/k8s/kubeconfig.js';
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
  namespace,
  ROOT,
  type Run,
  unregisterWebhook,
  VWC_PATH,
} from './support.js';

const info: ClusterInfo = inject('cluster');
const CHART = `${ROOT}/charts/webhook`;
const RELEASE = 'gg';
const VWC = 'gg-gloo-guard';
/** Where the user's workloads go; Deployments named like Gloo Mesh's are in the webhook's scope anywhere. */
const NS = 'first-install';
let rest: KubeRest;
/** Writes tried while the API server's informer catches up with a changed configuration (an event, not a time). */
const MAX_WRITES = 200;

/** One counter of the API server's /metrics, summed over the series whose labels include `labels`. */
async function apiserverCounter(name: string, labels: string): Promise<number> {
  const url = new URL('/metrics', info.server);
  const options: RequestOptions = { host: url.hostname, port: url.port, path: url.pathname };
  await Kubeconfig.load(info.kubeconfigPath).access().apply(options);
  const text = await new Promise<string>((res, rej) => {
    request(options, (r) => {
      let body = '';
      r.on('data', (d: Buffer) => (body += d.toString()));
      r.on('end', () => res(body));
    })
      .on('error', rej)
      .end();
  });
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`, 'gm')))
    if (m[1]!.includes(labels)) sum += Number(m[2]);
  return sum;
}

/** How many times the API server let a request through because the named webhook could not be called. */
function failedOpen(webhook: string): Promise<number> {
  return apiserverCounter('apiserver_admission_webhook_fail_open_count', `name="${webhook}"`);
}

/** The three kinds of write a first install must not block, each in the webhook's scope. */
const WRITES = {
  'a Deployment': {
    webhook: 'deployments.gloo-guard.io',
    write: (i: number) =>
      attempt(rest, 'POST', `/apis/apps/v1/namespaces/${NS}/deployments`, {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        // Named like istiod: the chart's matchConditions send it to the webhook in any namespace.
        metadata: { name: `istiod-first-${i}` },
        spec: {
          selector: { matchLabels: { app: 'istiod' } },
          template: {
            metadata: { labels: { app: 'istiod' } },
            spec: { containers: [{ name: 'discovery', image: 'docker.io/istio/pilot:1.24.0' }] },
          },
        },
      }),
  },
  'a Namespace': {
    webhook: 'namespaces.gloo-guard.io',
    write: (i: number) =>
      attempt(
        rest,
        'PATCH',
        '/api/v1/namespaces/gloo-mesh-addons',
        { metadata: { labels: { 'first-install-probe': String(i) } } },
        'application/merge-patch+json',
      ),
  },
  'a Helm release Secret (helm install)': {
    webhook: 'releases.gloo-guard.io',
    write: (i: number) => helmInstall(`probe-${i}`),
  },
} as const;

/** `helm install` of a Gloo Platform release in the user's namespace, as an API-call result. */
function helmInstall(name: string): Promise<{ status: number; message: string }> {
  const r = helm('v3', info, ['install', name, `${CHARTS}/gloo-platform`, '-n', NS]);
  return Promise.resolve({ status: r.code === 0 ? 201 : 500, message: r.out });
}

/** The chart as a user installs or upgrades it: real helm, no --wait (no pod will ever be ready here). */
function installChart(verb: 'install' | 'upgrade', mode: 'audit' | 'enforce'): Run {
  const r = helm('v3', info, [
    verb,
    RELEASE,
    CHART,
    '-n',
    'gloo-guard',
    ...(verb === 'install' ? ['--create-namespace'] : []),
    '--set',
    `mode=${mode}`,
  ]);
  expect(r.code, r.out).toBe(0);
  return r;
}

beforeAll(async () => {
  rest = kube(info);
  // Another suite's webhook (a local process, gone by now) must not decide these writes.
  await unregisterWebhook(rest, 'gloo-guard');
  await ensure(rest, '/api/v1/namespaces', namespace(NS));
  await ensure(rest, '/api/v1/namespaces', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'gloo-mesh-addons' },
  });
});

afterAll(async () => {
  helm('v3', info, ['uninstall', RELEASE, '-n', 'gloo-guard']);
  // Its enforce-mode configuration (failurePolicy Fail, no pod) would refuse the next suite's writes.
  await unregisterWebhook(rest, VWC);
  // Later suites share this API server and judge what is in it (istiod Deployments, releases): leave
  // nothing of ours behind (the namespace stays: no controller here would finish deleting it).
  for (const name of await deploymentNames(rest, NS))
    await rest.call('DELETE', `/apis/apps/v1/namespaces/${NS}/deployments/${name}`);
  const releases = helm('v3', info, ['list', '-n', NS, '-q']).stdout.split('\n').filter(Boolean);
  for (const name of releases) helm('v3', info, ['uninstall', name, '-n', NS]);
  await attempt(
    rest,
    'PATCH',
    '/api/v1/namespaces/gloo-mesh-addons',
    { metadata: { labels: { 'first-install-probe': null } } },
    'application/merge-patch+json',
  );
});

describe('a first install with no webhook pod', () => {
  let attemptNo = 0;

  it('when installed in audit mode, then the chart registers its webhooks with failurePolicy Ignore and NOTES.txt says the cluster stays writable', async () => {
    const r = installChart('install', 'audit');
    expect(r.stdout).toContain('mode: audit, failurePolicy: Ignore');
    expect(r.stdout).toContain('nothing is refused; failurePolicy is Ignore');
    const vwc = (await rest.call('GET', `${VWC_PATH}/${VWC}`)).body as {
      webhooks: Array<{ name: string; failurePolicy: string }>;
    };
    expect(vwc.webhooks.map((w) => [w.name, w.failurePolicy])).toEqual(
      expect.arrayContaining(Object.values(WRITES).map((w) => [w.webhook, 'Ignore'])),
    );
    // No webhook pod: the Deployment is stored and nothing runs it.
    const pods = (await rest.call('GET', '/api/v1/namespaces/gloo-guard/pods')).body as { items: unknown[] };
    expect(pods.items).toEqual([]);
  });

  it.each(Object.keys(WRITES) as Array<keyof typeof WRITES>)(
    'when %s is written in scope in audit mode, then it succeeds although the API server could not call the webhook',
    async (what) => {
      const { webhook, write } = WRITES[what];
      const before = await failedOpen(webhook);
      // The API server loads webhook configurations through an informer; write until its own counter
      // shows it called our webhook, failed, and let the write through. Every write must succeed.
      let seen = false;
      for (let i = 0; i < MAX_WRITES && !seen; i++) {
        const r = await write(++attemptNo);
        expect(r.status, r.message).toBeLessThan(300);
        seen = (await failedOpen(webhook)) > before;
      }
      expect(seen, `${MAX_WRITES} writes and the API server never tried ${webhook}`).toBe(true);
    },
  );

  it('when upgraded to enforce mode, then NOTES.txt says what it blocks, including every write while no pod answers', () => {
    const r = installChart('upgrade', 'enforce');
    expect(r.stdout).toContain('mode: enforce, failurePolicy: Fail');
    expect(r.stdout).toContain(
      'helm install and helm upgrade of Gloo Mesh charts whose values break a policy',
    );
    expect(r.stdout).toMatch(
      /while no webhook pod answers[\s\S]*the API server refuses EVERY request in scope/,
    );
    expect(r.stdout).toContain('Install with --set mode=audit first');
  });

  it.each(Object.keys(WRITES) as Array<keyof typeof WRITES>)(
    'when %s is written in scope in enforce mode with no pod, then the API server refuses it, naming the webhook',
    async (what) => {
      const { webhook, write } = WRITES[what];
      // Until the informer sees failurePolicy Fail, the write may still go through (fail open).
      let r = await write(++attemptNo);
      for (let i = 1; i < MAX_WRITES && r.status < 300; i++) r = await write(++attemptNo);
      expect(r.status, `${MAX_WRITES} writes went through`).toBeGreaterThanOrEqual(400);
      expect(r.message).toContain(`failed calling webhook "${webhook}"`);
    },
  );
});
