/**
 * What the webhook does with its own cluster, each switched on by a flag: a cluster view for the
 * cluster-aware policies, a periodic audit of what already runs, and self-managed certificates.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Config } from '../config/types.js';
import { auditCluster } from '../audit/audit.js';
import { buildPolicyReports } from '../audit/policy-report.js';
import { startSelfManagedCerts } from '../certs/self-managed.js';
import { Kubeconfig } from '../k8s/kubeconfig.js';
import { apiClusterSource } from '../k8s/cluster-source.js';
import { LeaseElector } from '../k8s/lease.js';
import { apiDataReader } from '../k8s/cluster-source.js';
import { LiveCluster } from '../k8s/live-cluster.js';
import { policyReportsAvailable, writePolicyReports } from '../audit/write-reports.js';
import { KubeApiError, KubeRest } from '../k8s/rest.js';
import { errorForLog, type Logger } from './log.js';
import { recordAudit, type Metrics } from './metrics.js';
import type { ClusterFeatures, ClusterOptions } from './cluster-options.js';

export type { ClusterFeatures, ClusterOptions } from './cluster-options.js';

/** Everything one audit run needs. */
interface AuditDeps {
  rest: KubeRest;
  o: ClusterOptions;
  config: () => Config;
  logger: Logger;
  metrics: Metrics;
  live?: LiveCluster;
}

/** One audit: reads, judges, records and reports; never throws (the caller is a timer). */
async function auditOnce(d: AuditDeps): Promise<void> {
  // Set by the replica that audits (the Lease holder), so a stale-audit alert judges only those.
  d.metrics.auditInterval.set(d.o.auditIntervalMs / 1000);
  const started = Date.now();
  try {
    const source = apiClusterSource('self', d.rest, {
      releases: d.o.auditReleases,
      ...(d.live ? { view: d.live } : {}),
    });
    const audit = await auditCluster(source, d.config(), {
      onPolicyError: (policy, object, err) =>
        d.logger.error({ policy, subject: object, err: errorForLog(err) }, 'a policy failed to run'),
    });
    recordAudit(d.metrics, audit);
    const findings = audit.objects.reduce((n, x) => n + x.result.findings.length, 0);
    let reports = 'not written';
    if (d.o.policyReports && (await policyReportsAvailable(d.rest, d.o.reportsApi))) {
      const built = buildPolicyReports(audit, new Date(), d.o.reportsApi);
      const r = await writePolicyReports(d.rest, built, d.o.reportsApi);
      reports = `${r.written} written, ${r.deleted} removed`;
    }
    d.logger.info(
      {
        ...audit.counts,
        findings,
        errors: audit.errors.length,
        // Lists the audit could not read (an API not served, or not allowed): named, never skipped silently.
        unread: audit.unread.map((u) => `${u.source}: ${u.message}`),
        role: audit.role,
        policyReports: reports,
        durationMs: Date.now() - started,
      },
      'audit finished',
    );
  } catch (err: unknown) {
    // Nothing may escape: a rejection here would end the process on every replica at once.
    d.metrics.auditRuns.inc({ result: 'failure' });
    if (err instanceof KubeApiError)
      d.logger.error({ problem: err.message }, 'audit failed: the cluster could not be read');
    else
      d.logger.error({ err: errorForLog(err) }, 'audit failed: internal error; the next run will try again');
  }
}

/** Runs the audit every interval, only while `mayRun()` (the Lease) says so, one run at a time. */
function startAudit(d: AuditDeps, mayRun: () => boolean): { stop: () => void; runSoon: () => void } {
  let running = false;
  const run = (): void => {
    if (running || !mayRun()) return;
    running = true;
    void auditOnce(d).finally(() => (running = false));
  };
  const first = setTimeout(run, 5_000);
  const timer = setInterval(run, d.o.auditIntervalMs);
  timer.unref();
  first.unref();
  return {
    runSoon: () => setImmediate(run).unref(),
    stop: () => {
      clearTimeout(first);
      clearInterval(timer);
    },
  };
}

function leaseElector(rest: KubeRest, o: ClusterOptions, logger: Logger): LeaseElector | undefined {
  if (!o.auditLease) return undefined;
  return new LeaseElector(
    rest,
    {
      ...o.auditLease,
      identity: `${hostname()}_${randomUUID().slice(0, 8)}`,
      retryMs: Math.max(1_000, Math.floor(o.auditLease.durationMs / 5)),
    },
    (level, msg, fields) => logger[level](fields ?? {}, msg),
  );
}

async function startLiveCluster(
  rest: KubeRest,
  o: ClusterOptions,
  config: () => Config,
  logger: Logger,
  metrics: Metrics,
): Promise<LiveCluster> {
  const cfg = config();
  const resource = (path: string): string => path.replace(/^\/apis?\/(.*\/)?v1\//, '');
  const live = new LiveCluster(
    rest,
    [cfg.namespaces.management, cfg.namespaces.addons],
    (level, msg, fields) => logger[level](fields ?? {}, msg),
    {
      listed: (path) => metrics.cacheLists.inc({ resource: resource(path) }),
      watched: (path, resumed) =>
        metrics.cacheWatches.inc({ resource: resource(path), from: resumed ? 'resourceVersion' : 'list' }),
    },
    { watchTimeoutSeconds: o.watchTimeoutSeconds },
  );
  const synced = await live.start();
  if (!synced)
    logger.warn(
      { unsynced: live.unsynced() },
      'cluster caches not synced yet; cluster-aware checks answer by onError until they are',
    );
  return live;
}

/** Starts the cluster features the options ask for; throws a KubeApiError when the API cannot be reached at all. */
export async function startCluster(
  o: ClusterOptions,
  config: () => Config,
  logger: Logger,
  metrics: Metrics,
): Promise<ClusterFeatures> {
  const access = Kubeconfig.load().access();
  const rest = new KubeRest(access, 5_000);
  const stops: Array<() => void | Promise<void>> = [];
  const live = o.clusterView ? await startLiveCluster(rest, o, config, logger, metrics) : undefined;
  if (live) stops.push(() => live.stop());
  if (o.auditIntervalMs > 0) {
    const lease = leaseElector(rest, o, logger);
    const audit = startAudit({ rest, o, config, logger, metrics, ...(live ? { live } : {}) }, () =>
      lease ? lease.isLeader() : true,
    );
    lease?.onChange((leader) => leader && audit.runSoon());
    lease?.start();
    stops.push(audit.stop);
    if (lease) stops.push(() => lease.stop());
  }
  const certs = o.selfManaged
    ? await startSelfManagedCerts({ client: access, log: logger, ...o.selfManaged })
    : undefined;
  if (certs) stops.push(() => certs.stop());
  const view = live?.view();
  let synced = live?.synced ?? true;
  const everSynced = (): boolean => (synced ||= live?.synced ?? true);
  return {
    evaluateOptions: () => (view ? { cluster: view } : {}),
    // Ready once the caches first synced; a later loss is answered per request by onError, not by
    // taking every replica out of the Service (which would hand the decision to failurePolicy).
    notReady: () =>
      live && !everSynced() ? [`cluster caches not synced: ${live.unsynced().join(', ')}`] : [],
    ...(certs ? { certs } : {}),
    // Flux valuesFrom at admission: read by a direct GET, with the Roles the chart grants.
    ...(o.clusterView ? { readData: apiDataReader(rest) } : {}),
    stop: async () => {
      for (const s of stops) await s();
    },
  };
}
