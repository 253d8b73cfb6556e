/** Prometheus metrics of the webhook (prom-client): one registry per server, so tests stay isolated. */
import { Counter, Gauge, Registry } from 'prom-client';
import { TallyCounter, TallyHistogram } from './tally.js';
import type { AdmissionRequest } from './admission.js';
import type { Decision } from './review.js';
import type { ClusterAudit } from '../audit/audit.js';

/** The webhook's metrics and the registry `/metrics` serves. */
export interface Metrics {
  registry: Registry;
  requests: TallyCounter<'kind' | 'operation' | 'decision'>;
  duration: TallyHistogram<'kind'>;
  violations: Counter<'policy' | 'action'>;
  inputErrors: Counter<'kind'>;
  policyErrors: Counter<'policy'>;
  invalidReviews: Counter;
  offloaded: Counter<'result'>;
  certificateExpiry: Gauge;
  configReloads: Counter<'result'>;
  auditRuns: Counter<'result'>;
  auditViolations: Gauge<'policy' | 'namespace' | 'action'>;
  auditLastRun: Gauge;
  auditInterval: Gauge;
  cacheLists: Counter<'resource'>;
  cacheWatches: Counter<'resource' | 'from'>;
}

/** Kinds get their own label value; anything else is `other`, so a caller cannot grow the series. */
const KNOWN_KINDS = new Set(['Secret', 'Namespace', 'Deployment', 'Service']);

/** A bounded label value for a request kind. */
export function kindLabel(kind: string): string {
  return KNOWN_KINDS.has(kind) ? kind : 'other';
}

/** The bounds of the review duration histogram, in seconds. */
export const DURATION_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

/** Creates the metrics on `registry` (a fresh one by default). */
export function createMetrics(registry: Registry = new Registry()): Metrics {
  const registers = [registry];
  return {
    registry,
    // Updated by every review: counted in plain numbers (tally.ts), scraped as prom-client writes them.
    requests: new TallyCounter({
      name: 'gloo_guard_admission_requests_total',
      help: 'Admission reviews answered, by kind, operation and decision (allow or deny).',
      labelNames: ['kind', 'operation', 'decision'],
      registers,
    }),
    duration: new TallyHistogram(
      {
        name: 'gloo_guard_admission_duration_seconds',
        help: 'Time to answer an admission review, from its arrival: reading, decoding a release, judging.',
        labelNames: ['kind'],
        registers,
      },
      // Up to 30 s, the longest webhook timeout the API server allows, so that an alert can tell an
      // answer that came too late for timeoutSeconds from one that merely was slow.
      DURATION_BUCKETS,
    ),
    violations: new Counter({
      name: 'gloo_guard_violations_total',
      help: 'Policy violations found in admission reviews, by policy and action (deny or warn).',
      labelNames: ['policy', 'action'],
      registers,
    }),
    inputErrors: new Counter({
      name: 'gloo_guard_input_errors_total',
      help: 'Objects that could not be read (corrupt release, release over the size limit), handled by onError.',
      labelNames: ['kind'],
      registers,
    }),
    policyErrors: new Counter({
      name: 'gloo_guard_policy_errors_total',
      help: 'Policies that failed to run on an object, handled by onError.',
      labelNames: ['policy'],
      registers,
    }),
    invalidReviews: new Counter({
      name: 'gloo_guard_invalid_reviews_total',
      help: 'Requests to /validate answered with an HTTP error (not an AdmissionReview, body too large).',
      registers,
    }),
    offloaded: new Counter({
      name: 'gloo_guard_offloaded_reviews_total',
      help: 'Review bodies over 64 KiB read in the worker thread, by result (done, or failed: the worker stopped and the review got HTTP 500).',
      labelNames: ['result'],
      registers,
    }),
    certificateExpiry: new Gauge({
      name: 'gloo_guard_certificate_expiry_timestamp_seconds',
      help: 'When the serving certificate expires (Unix time).',
      registers,
    }),
    configReloads: new Counter({
      name: 'gloo_guard_config_reloads_total',
      help: 'Config file reloads, by result (success, or failure: the previous config stays in use).',
      labelNames: ['result'],
      registers,
    }),
    auditRuns: new Counter({
      name: 'gloo_guard_audit_runs_total',
      help: 'Periodic audits of the cluster, by result (success, or failure: the cluster could not be read).',
      labelNames: ['result'],
      registers,
    }),
    auditViolations: new Gauge({
      name: 'gloo_guard_audit_violations',
      // No object label: one series per violating object would grow with the cluster. The objects
      // are in the PolicyReports and the audit log.
      help: 'Violations found by the last audit, by policy, namespace and action; replaced each audit.',
      labelNames: ['policy', 'namespace', 'action'],
      registers,
    }),
    auditLastRun: new Gauge({
      name: 'gloo_guard_audit_last_run_timestamp_seconds',
      help: 'When the last audit finished (Unix time).',
      registers,
    }),
    auditInterval: new Gauge({
      name: 'gloo_guard_audit_interval_seconds',
      help: 'Seconds between periodic audits, set when this replica audits (0: it does not), so alerts can tell a stale audit.',
      registers,
    }),
    cacheLists: new Counter({
      name: 'gloo_guard_cluster_cache_lists_total',
      help: 'Full lists of a cluster-view cache (paged); after the first, each is a reload the watch could not avoid (410 Gone).',
      labelNames: ['resource'],
      registers,
    }),
    cacheWatches: new Counter({
      name: 'gloo_guard_cluster_cache_watches_total',
      help: 'Watches a cluster-view cache opened, by where they start: from a fresh list, or resumed from the last resourceVersion.',
      labelNames: ['resource', 'from'],
      registers,
    }),
  };
}

/** Replaces the audit gauges with the findings of one audit (so a fixed violation disappears). */
export function recordAudit(m: Metrics, audit: ClusterAudit): void {
  m.auditViolations.reset();
  for (const { resource, result } of audit.objects) {
    for (const f of result.findings) {
      const namespace = resource.kind === 'Namespace' ? resource.name : (resource.namespace ?? '');
      m.auditViolations.inc({ policy: f.policy, namespace, action: f.action });
    }
  }
  m.auditRuns.inc({ result: 'success' });
  m.auditLastRun.set(Date.now() / 1000);
}

/** Records one answered review: the request, its violations, any error, and the time it took. */
export function recordReview(m: Metrics, req: AdmissionRequest, decision: Decision, seconds: number): void {
  const kind = kindLabel(req.kind.kind);
  m.requests.inc({ kind, operation: req.operation, decision: decision.allowed ? 'allow' : 'deny' });
  m.duration.observe({ kind }, seconds);
  for (const f of decision.findings) m.violations.inc({ policy: f.policy, action: f.action });
  if (decision.inputError !== undefined) m.inputErrors.inc({ kind });
  for (const policy of decision.policyErrors) m.policyErrors.inc({ policy });
}
