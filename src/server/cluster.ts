/**
 * What the webhook does with its own cluster, each switched on by a flag: a cluster view for the
 * cluster-aware policies, a periodic audit of what already runs, and self-managed certificates.
 */
import type { Config } from '../config/types.js';
import { auditCluster } from '../audit/audit.js';
import { buildPolicyReports } from '../audit/policy-report.js';
import { startSelfManagedCerts } from '../certs/self-managed.js';
import { loadKubeConfig } from '../k8s/client.js';
import { apiClusterSource } from '../k8s/cluster-source.js';
import { LiveCluster } from '../k8s/live-cluster.js';
import { policyReportsAvailable, writePolicyReports } from '../k8s/policy-reports.js';
import { KubeApiError, KubeRest } from '../k8s/rest.js';
import type { Logger } from './log.js';
import { recordAudit, type Metrics } from './metrics.js';
import type { ClusterFeatures, ClusterOptions } from './cluster-options.js';

export type { ClusterFeatures, ClusterOptions } from './cluster-options.js';

function startAudit(
  rest: KubeRest,
  o: ClusterOptions,
  config: () => Config,
  logger: Logger,
  metrics: Metrics,
): () => void {
  let running = false;
  const run = async (): Promise<void> => {
    if (running) return;
    running = true;
    // Set by the replica that audits, so a stale-audit alert judges only replicas that run audits.
    metrics.auditInterval.set(o.auditIntervalMs / 1000);
    const started = Date.now();
    try {
      const audit = await auditCluster(apiClusterSource('self', rest), config());
      recordAudit(metrics, audit);
      const findings = audit.objects.reduce((n, x) => n + x.result.findings.length, 0);
      let reports = 'not written';
      if (o.policyReports && (await policyReportsAvailable(rest, o.reportsApi))) {
        const r = await writePolicyReports(
          rest,
          buildPolicyReports(audit, new Date(), o.reportsApi),
          o.reportsApi,
        );
        reports = `${r.written} written, ${r.deleted} removed`;
      }
      logger.info(
        {
          ...audit.counts,
          findings,
          errors: audit.errors.length,
          role: audit.role,
          policyReports: reports,
          durationMs: Date.now() - started,
        },
        'audit finished',
      );
    } catch (err: unknown) {
      if (!(err instanceof KubeApiError)) throw err;
      metrics.auditRuns.inc({ result: 'failure' });
      logger.error({ problem: err.message }, 'audit failed: the cluster could not be read');
    } finally {
      running = false;
    }
  };
  const first = setTimeout(() => void run(), 5_000);
  const timer = setInterval(() => void run(), o.auditIntervalMs);
  timer.unref();
  first.unref();
  return () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}

/** Starts the cluster features the options ask for; throws a KubeApiError when the API cannot be reached at all. */
export async function startCluster(
  o: ClusterOptions,
  config: () => Config,
  logger: Logger,
  metrics: Metrics,
): Promise<ClusterFeatures> {
  const kc = loadKubeConfig();
  const rest = new KubeRest(kc, 5_000);
  const stops: Array<() => void> = [];
  let live: LiveCluster | undefined;
  if (o.clusterView) {
    const cfg = config();
    live = new LiveCluster(rest, [cfg.namespaces.management, cfg.namespaces.addons], (level, msg, fields) =>
      logger[level](fields ?? {}, msg),
    );
    const synced = await live.start();
    if (!synced)
      logger.warn(
        { unsynced: live.unsynced() },
        'cluster caches not synced yet; cluster-aware checks answer by onError until they are',
      );
    stops.push(() => live?.stop());
  }
  if (o.auditIntervalMs > 0) stops.push(startAudit(rest, o, config, logger, metrics));
  const certs = o.selfManaged
    ? await startSelfManagedCerts({ client: kc, log: logger, ...o.selfManaged })
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
    stop: () => stops.forEach((s) => s()),
  };
}
