/** The arguments of `gloo-guard serve`, parsed and checked into the options the server runs with. */
import { isReportGroup, reportGroupProblem, type ReportGroup } from '../audit/policy-report.js';
import type { ClusterOptions } from '../server/cluster-options.js';
import { LOG_LEVELS, type LogLevel } from '../server/log.js';
import type { ServeOptions } from '../server/main.js';
import { parseOrHelp, UsageError } from './args.js';

function parseLogLevel(text: string | undefined): LogLevel {
  if (text === undefined) return 'info';
  const level = LOG_LEVELS.find((l) => l === text);
  if (level === undefined)
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, not "${text}"`);
  return level;
}

function parsePort(text: string | undefined): number {
  if (text === undefined) return 8443;
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535)
    throw new UsageError(`--port must be a number from 0 to 65535, not "${text}"`);
  return port;
}

/** Parses `30s`, `10m`, `1h` (or plain seconds) into milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new UsageError(`${flag} must be a duration such as 30s, 10m or 1h, not "${text}"`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 's'] ?? 1000;
  return Number(m[1]) * unit;
}

function reportsApi(text: string | undefined): ReportGroup {
  if (text === undefined) return 'wgpolicyk8s.io';
  if (!isReportGroup(text)) throw new UsageError(reportGroupProblem(text));
  return text;
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new UsageError(`--self-managed-certs needs ${flag}`);
  return value;
}

/** `all`, `none`, or namespaces separated by commas. */
function parseReleaseScope(text: string | undefined): 'all' | string[] {
  if (text === undefined || text === 'all') return 'all';
  if (text === 'none') return [];
  const namespaces = text.split(',').map((n) => n.trim());
  if (namespaces.some((n) => !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(n)))
    throw new UsageError(
      `--audit-releases must be all, none or namespace names separated by commas, not "${text}"`,
    );
  return namespaces;
}

function auditLease(v: {
  'audit-lease'?: string;
  'audit-lease-duration'?: string;
  namespace?: string;
}): ClusterOptions['auditLease'] {
  const name = v['audit-lease'];
  if (name === undefined) return undefined;
  const durationMs =
    v['audit-lease-duration'] === undefined
      ? 30_000
      : parseDuration(v['audit-lease-duration'], '--audit-lease-duration');
  if (durationMs < 3_000) throw new UsageError('--audit-lease-duration must be at least 3s');
  const namespace = v.namespace ?? process.env.POD_NAMESPACE;
  if (namespace === undefined || namespace === '')
    throw new UsageError('--audit-lease needs --namespace (or POD_NAMESPACE)');
  return { namespace, name, durationMs };
}

function clusterOptions(v: {
  'cluster-view'?: boolean;
  'audit-interval'?: string;
  'policy-reports'?: boolean;
  'reports-api'?: string;
  'audit-releases'?: string;
  'audit-lease'?: string;
  'audit-lease-duration'?: string;
  'watch-timeout'?: string;
  'self-managed-certs'?: boolean;
  'tls-secret'?: string;
  'webhook-config'?: string;
  service?: string;
  namespace?: string;
  'cert-dns-name'?: string[];
  'cert-check-interval'?: string;
}): ClusterOptions {
  const auditIntervalMs =
    v['audit-interval'] === undefined ? 0 : parseDuration(v['audit-interval'], '--audit-interval');
  if (v['audit-interval'] !== undefined && auditIntervalMs < 10_000)
    throw new UsageError('--audit-interval must be at least 10s');
  const lease = auditLease(v);
  const watchTimeoutMs =
    v['watch-timeout'] === undefined ? 300_000 : parseDuration(v['watch-timeout'], '--watch-timeout');
  if (watchTimeoutMs < 1_000) throw new UsageError('--watch-timeout must be at least 1s');
  const base = {
    clusterView: Boolean(v['cluster-view']),
    auditIntervalMs,
    policyReports: Boolean(v['policy-reports']),
    reportsApi: reportsApi(v['reports-api']),
    auditReleases: parseReleaseScope(v['audit-releases']),
    watchTimeoutSeconds: Math.round(watchTimeoutMs / 1000),
    ...(lease ? { auditLease: lease } : {}),
  };
  if (!v['self-managed-certs']) return base;
  return {
    ...base,
    selfManaged: {
      namespace: required(v.namespace ?? process.env.POD_NAMESPACE, '--namespace (or POD_NAMESPACE)'),
      secretName: required(v['tls-secret'], '--tls-secret'),
      webhookConfigName: required(v['webhook-config'], '--webhook-config'),
      serviceName: required(v.service, '--service'),
      extraDnsNames: v['cert-dns-name'] ?? [],
      checkIntervalMs:
        v['cert-check-interval'] === undefined
          ? 60_000
          : parseDuration(v['cert-check-interval'], '--cert-check-interval'),
    },
  };
}

const OPTIONS = {
  config: { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'log-level': { type: 'string' },
  'no-warm-up': { type: 'boolean' },
  'cluster-view': { type: 'boolean' },
  'audit-interval': { type: 'string' },
  'policy-reports': { type: 'boolean' },
  'reports-api': { type: 'string' },
  'audit-releases': { type: 'string' },
  'audit-lease': { type: 'string' },
  'audit-lease-duration': { type: 'string' },
  'watch-timeout': { type: 'string' },
  'self-managed-certs': { type: 'boolean' },
  'tls-secret': { type: 'string' },
  'webhook-config': { type: 'string' },
  service: { type: 'string' },
  namespace: { type: 'string' },
  'cert-dns-name': { type: 'string', multiple: true },
  'cert-check-interval': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The options of `gloo-guard serve`, checked; undefined after printing the help for --help. */
export function parseServeArgs(args: string[], help: string): ServeOptions | undefined {
  const parsed = parseOrHelp(args, OPTIONS, help, false);
  if (parsed === undefined) return undefined;
  const { values } = parsed;
  const certFile = values['tls-cert'];
  const keyFile = values['tls-key'];
  if ((certFile === undefined) !== (keyFile === undefined))
    throw new UsageError('--tls-cert and --tls-key go together');
  if (values['self-managed-certs'] && certFile !== undefined)
    throw new UsageError('--self-managed-certs and --tls-cert/--tls-key exclude each other');
  return {
    ...(values.config !== undefined ? { configFile: values.config } : {}),
    port: parsePort(values.port),
    host: values.host ?? '0.0.0.0',
    ...(certFile !== undefined && keyFile !== undefined ? { tls: { certFile, keyFile } } : {}),
    logLevel: parseLogLevel(values['log-level']),
    warmUp: values['no-warm-up'] !== true,
    cluster: clusterOptions(values),
  };
}
