/**
 * What `serve` asks of the cluster, without loading any cluster code: the Kubernetes client is
 * imported only when a feature needs it, so a webhook without cluster features starts lighter.
 */
import type { DataReader } from '../engine/carriers/context.js';
import type { JudgeOptions } from '../engine/evaluate.js';
import type { SelfManagedCerts } from '../certs/self-managed.js';
import type { ReportGroup } from '../audit/policy-report.js';

/** Which cluster features to run. */
export interface ClusterOptions {
  clusterView: boolean;
  /** Milliseconds between audits; 0 runs none. */
  auditIntervalMs: number;
  policyReports: boolean;
  /** Which report API the audit writes: wgpolicyk8s.io PolicyReports or openreports.io Reports. */
  reportsApi: ReportGroup;
  /** Where the audit reads Helm release Secrets: `all`, or these namespaces (`[]`: none). */
  auditReleases: 'all' | readonly string[];
  /** With a Lease, only the replica holding it audits. */
  auditLease?: { namespace: string; name: string; durationMs: number };
  /** Seconds each cache watch lasts before it is resumed from its last resourceVersion. */
  watchTimeoutSeconds: number;
  selfManaged?: {
    namespace: string;
    secretName: string;
    webhookConfigName: string;
    serviceName: string;
    extraDnsNames: string[];
    checkIntervalMs: number;
  };
}

/** The running features. */
export interface ClusterFeatures {
  evaluateOptions(): JudgeOptions;
  /** Reasons the webhook is not ready (caches not synced at start-up). */
  notReady(): string[];
  certs?: SelfManagedCerts;
  /** Reads ConfigMaps and Secrets Flux HelmReleases take values from (with --cluster-view). */
  readData?: DataReader;
  /** Stops every feature; resolves once the audit Lease, if held, is released. */
  stop(): Promise<void>;
}

/** True when any feature needs the API. */
export function needsCluster(o: ClusterOptions): boolean {
  return o.clusterView || o.auditIntervalMs > 0 || o.selfManaged !== undefined;
}
