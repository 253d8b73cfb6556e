// The cluster view at scale, on a real kube-apiserver + etcd (issue 15 item 9): 20,000 Deployments,
// churn for a few minutes, and the webhook's cache, memory and Deployment review latency meanwhile.
// Too long for the e2e suite (test/e2e/least-privilege.e2e.test.ts runs 2,000); run it by hand, or
// through `npm run bench:e2e -- --scale 20000`, which records its figures in bench/results/e2e.json:
//
//   npx tsx test/e2e/scale/cache-20k.ts            # SCALE_DEPLOYMENTS=20000 SCALE_MINUTES=3
//
// The webhook runs compiled (the e2e suite's build in .cache/e2e-dist), as the image runs it.
// Prints one JSON line of figures: full lists of the Deployment cache (1 = no reload), resumed
// watches, RSS after the first sync (min, max), and review latency (p50, p99) under churn.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Kubeconfig } from '../../../src/k8s/kubeconfig.js';
import { latencyOf, serverBuckets } from '../../../bench/apiserver-metrics.js';
import { KubeRest } from '../../../src/k8s/rest.js';
import { deploymentObject, objectReview } from '../../fixtures/admission/reviews.js';
import {
  askWebhook,
  buildGlooGuard,
  deployment,
  inParallel,
  metricSum,
  startE2eCluster,
  startWebhook,
  webhookMetrics,
} from '../support.js';

const DEPLOYMENTS = Number(process.env.SCALE_DEPLOYMENTS ?? 20_000);
const MINUTES = Number(process.env.SCALE_MINUTES ?? 3);
const NAMESPACES = 200;

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Math.round(Number(m?.[1] ?? 0) / 1024);
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! * 100) / 100;
};

buildGlooGuard();
const cluster = await startE2eCluster();
try {
  const rest = new KubeRest(Kubeconfig.load(cluster.kubeconfigPath).access(), 30_000);
  const t0 = Date.now();
  await inParallel(
    Array.from(
      { length: NAMESPACES },
      (_, n) => () => rest.call('POST', '/api/v1/namespaces', { body: { metadata: { name: `scale-${n}` } } }),
    ),
    16,
  );
  await inParallel(
    Array.from({ length: DEPLOYMENTS }, (_, i) => () => {
      const ns = `scale-${i % NAMESPACES}`;
      return rest.call('POST', `/apis/apps/v1/namespaces/${ns}/deployments`, {
        body: deployment(`d-${i}`, ns),
      });
    }),
    32,
  );
  process.stderr.write(
    `[scale] created ${DEPLOYMENTS} Deployments in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`,
  );

  const started = Date.now();
  const webhook = await startWebhook({
    // info: the line saying where it serves is an info line.
    extraArgs: ['--cluster-view', '--log-level', 'info', '--watch-timeout', '60s'],
    env: { KUBECONFIG: cluster.kubeconfigPath },
    inheritStderr: true,
    // The cluster view lists every Deployment before the server says it serves.
    readyTimeoutMs: 30 * 60_000,
  });
  const ca = readFileSync(webhook.caFile ?? '', 'utf8');
  const syncMs = Date.now() - started;
  const pid = webhook.process.pid!;
  const rssAtReadyMb = rssMb(pid);
  const rss: number[] = [];
  const latencies: number[] = [];
  const end = Date.now() + MINUTES * 60_000;
  let churned = 0;
  const review = JSON.stringify(objectReview(deploymentObject('istiod-canary', 'istio-system')));
  const churn = async (): Promise<void> => {
    for (let i = 0; Date.now() < end; i++) {
      const n = (i * 7919) % DEPLOYMENTS;
      const ns = `scale-${n % NAMESPACES}`;
      await rest.call('PATCH', `/apis/apps/v1/namespaces/${ns}/deployments/d-${n}`, {
        body: { metadata: { labels: { rev: String(i) } } },
        contentType: 'application/merge-patch+json',
      });
      if (i % 10 === 0) {
        await rest.call('DELETE', `/apis/apps/v1/namespaces/${ns}/deployments/d-${n}`);
        await rest.call('POST', `/apis/apps/v1/namespaces/${ns}/deployments`, {
          body: deployment(`d-${n}`, ns),
        });
      }
      churned += 1;
    }
  };
  const probe = async (): Promise<void> => {
    while (Date.now() < end) {
      const started = process.hrtime.bigint();
      await askWebhook(webhook, ca, review);
      latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
      rss.push(rssMb(pid));
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  // With no Deployments there is nothing to churn: the run measures start-up, idle RSS and reviews.
  await Promise.all([...(DEPLOYMENTS > 0 ? [churn(), churn()] : []), probe()]);
  const metrics = await webhookMetrics(webhook, ca);
  await webhook.stop();
  const figures = {
    deployments: DEPLOYMENTS,
    minutes: MINUTES,
    churnWrites: churned,
    firstSyncMs: syncMs,
    rssAtReadyMb,
    loadAverageAtEnd: loadavg().map((l) => Number(l.toFixed(2))),
    deploymentLists: metricSum(metrics, 'gloo_guard_cluster_cache_lists_total{resource="deployments"}'),
    resumedWatches: metricSum(
      metrics,
      'gloo_guard_cluster_cache_watches_total{resource="deployments",from="resourceVersion"}',
    ),
    rssMb: { min: Math.min(...rss), max: Math.max(...rss) },
    reviewMs: {
      n: latencies.length,
      p50: pct(latencies, 50),
      p99: pct(latencies, 99),
      max: pct(latencies, 100),
    },
    // The same reviews as the server timed them, interpolated within its buckets.
    serverReviewMs: latencyOf(serverBuckets(metrics).get('Deployment')),
  };
  process.stdout.write(`${JSON.stringify(figures)}\n`);
} finally {
  await cluster.stop();
}
