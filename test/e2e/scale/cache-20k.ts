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
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { request } from 'node:https';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { KubeConfig } from '@kubernetes/client-node';
import { latencyOf, type Buckets } from '../../../bench/apiserver-metrics.js';
import { KubeRest } from '../../../src/k8s/rest.js';
import { deploymentObject, objectReview } from '../../fixtures/admission/reviews.js';
import { startCluster } from '../cluster/cluster.js';
import { E2E_DIST, GLOO_GUARD } from '../support.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const DEPLOYMENTS = Number(process.env.SCALE_DEPLOYMENTS ?? 20_000);
const MINUTES = Number(process.env.SCALE_MINUTES ?? 3);
const NAMESPACES = 200;

const deployment = (name: string, namespace: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace, labels },
  spec: {
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: 'c', image: `${name}:1` }] },
    },
  },
});

async function inParallel(jobs: Array<() => Promise<unknown>>, width: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < jobs.length) await jobs[next++]!();
    }),
  );
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Math.round(Number(m?.[1] ?? 0) / 1024);
}

function post(port: number, ca: string, body: string): Promise<number> {
  const started = process.hrtime.bigint();
  return new Promise((res, rej) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/validate',
        method: 'POST',
        ca,
        headers: { 'content-type': 'application/json' },
      },
      (r) => {
        r.resume();
        r.on('end', () => res(Number(process.hrtime.bigint() - started) / 1e6));
      },
    );
    req.on('error', rej);
    req.end(body);
  });
}

function get(port: number, ca: string, path: string): Promise<string> {
  return new Promise((res, rej) => {
    request({ host: '127.0.0.1', port, path, ca }, (r) => {
      let b = '';
      r.on('data', (c: Buffer) => (b += c.toString()));
      r.on('end', () => res(b));
    })
      .on('error', rej)
      .end();
  });
}

const sum = (text: string, prefix: string): number =>
  text
    .split('\n')
    .filter((l) => l.startsWith(prefix))
    .reduce((n, l) => n + Number(l.split(' ').pop()), 0);

/** The webhook's own histogram of Deployment reviews: how long the server took, without the client and the network. */
function serverBuckets(text: string): Buckets {
  const prefix = 'gloo_guard_admission_duration_seconds_bucket{';
  const buckets: Buckets = new Map();
  for (const line of text.split('\n')) {
    if (!line.startsWith(prefix) || !line.includes('kind="Deployment"')) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    if (le === undefined) continue;
    buckets.set(le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), Number(line.split(' ').pop()));
  }
  return buckets;
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! * 100) / 100;
};

execFileSync(
  process.execPath,
  [resolve(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', E2E_DIST],
  { cwd: ROOT },
);
const cluster = await startCluster({ log: (s) => process.stderr.write(`${s}\n`) });
try {
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfigPath);
  const rest = new KubeRest(kc, 30_000);
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

  const child = spawn(
    process.execPath,
    [
      GLOO_GUARD,
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--cluster-view',
      // info: the line saying where it serves is an info line.
      '--log-level',
      'info',
      '--watch-timeout',
      '60s',
    ],
    {
      cwd: ROOT,
      env: { ...process.env, KUBECONFIG: cluster.kubeconfigPath },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const started = Date.now();
  const { port, ca } = await new Promise<{ port: number; ca: string }>((res) => {
    let caPath = '';
    createInterface({ input: child.stdout }).on('line', (line) => {
      const caM = /"caBundle":"([^"]+)"/.exec(line);
      if (caM) caPath = caM[1]!;
      const m = /"port":(\d+)/.exec(line);
      if (m && line.includes('serving admission reviews'))
        res({ port: Number(m[1]), ca: readFileSync(caPath, 'utf8') });
    });
  });
  const syncMs = Date.now() - started;
  const pid = child.pid!;
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
      latencies.push(await post(port, ca, review));
      rss.push(rssMb(pid));
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  await Promise.all([churn(), churn(), probe()]);
  const metrics = await get(port, ca, '/metrics');
  child.kill('SIGTERM');
  const figures = {
    deployments: DEPLOYMENTS,
    minutes: MINUTES,
    churnWrites: churned,
    firstSyncMs: syncMs,
    rssAtReadyMb,
    loadAverageAtEnd: loadavg().map((l) => Number(l.toFixed(2))),
    deploymentLists: sum(metrics, 'gloo_guard_cluster_cache_lists_total{resource="deployments"}'),
    resumedWatches: sum(
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
    serverReviewMs: latencyOf(serverBuckets(metrics)),
  };
  process.stdout.write(`${JSON.stringify(figures)}\n`);
} finally {
  await cluster.stop();
}
