/**
 * `gloo-guard serve`: builds the app, serves it over HTTPS, reloads the certificate and config when
 * their files change, and shuts down gracefully on SIGTERM or SIGINT.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { collectDefaultMetrics } from 'prom-client';
import { ConfigError, loadConfig } from '../config/load.js';
import { defaultConfig, type Config } from '../config/types.js';
import { createApp } from './app.js';
import { createLogger, LOG_LEVELS, type Logger } from './log.js';
import { createMetrics, type Metrics } from './metrics.js';
import {
  certificateFingerprint,
  certificateNotAfter,
  readTlsFiles,
  reloadTlsOnChange,
  selfSignedTls,
  tlsOptions,
  TlsError,
  type TlsMaterial,
} from './tls.js';
import { watchFiles, type FileWatch } from './watch.js';
import { needsCluster, type ClusterFeatures, type ClusterOptions } from './cluster-options.js';
import { Offload } from './offload.js';
import { KubeApiError } from '../k8s/rest.js';
import { isReportGroup, reportGroupProblem, type ReportGroup } from '../audit/policy-report.js';

const HELP = `usage: gloo-guard serve [--config FILE] [--port 8443] [--host 0.0.0.0] [--tls-cert FILE --tls-key FILE]

Runs the validating admission webhook over HTTPS (TLS 1.2 or later):
  POST /validate   admission.k8s.io/v1 AdmissionReviews
  GET  /healthz    the process is alive
  GET  /readyz     certificate loaded, config valid, not shutting down
  GET  /metrics    Prometheus metrics

options:
  --config FILE    gloo-guard config (YAML); reloaded when it changes (an invalid change is logged and ignored)
  --port N         port to listen on (default 8443; 0 picks a free port, logged at start-up)
  --host ADDR      address to listen on (default 0.0.0.0)
  --tls-cert FILE  serving certificate (PEM), reloaded when it changes; needs --tls-key
  --tls-key FILE   the certificate's private key (PEM)
  --log-level LEVEL  debug, info (default), warn or error; every denial, warning, error and release
                   decision is one line at info; an allowed review that found nothing in an ordinary
                   object (a Deployment, a Namespace) only at debug; warn keeps only problems
                   (rejected bodies, ignored reloads, lost cluster caches)

cluster features (credentials: in-cluster service account, or KUBECONFIG):
  --cluster-view            watch namespaces, Deployments and the Gloo Mesh namespaces' Secret names, so
                            cluster-aware policies can judge (a lost connection is answered by onError)
  --audit-interval DURATION audit what already runs every DURATION (30s, 10m, 1h); off by default
  --policy-reports          write the audit's findings as PolicyReports where that CRD exists
  --reports-api GROUP       the reports' API: wgpolicyk8s.io (PolicyReport, default) or openreports.io (Report)
  --audit-releases SCOPE    where the audit reads Helm release Secrets: all (default), none, or a
                            comma-separated list of namespaces (what namespaced RBAC allows)
  --audit-lease NAME        audit only while holding this coordination.k8s.io Lease in --namespace, so
                            one replica audits and another takes over when it stops
  --audit-lease-duration DURATION  how long a silent holder keeps the Lease (default 30s)
  --watch-timeout DURATION  how long each cache watch lasts before it is resumed (default 5m)
  --self-managed-certs      create, share and rotate the serving certificate in a Secret, and keep the
                            webhook configuration's caBundle current; needs --tls-secret, --webhook-config,
                            --service and --namespace (default $POD_NAMESPACE)
  --tls-secret NAME  --webhook-config NAME  --service NAME  --namespace NS
  --cert-dns-name NAME      another DNS name for the self-managed certificate (repeatable)
  --cert-check-interval DURATION  how often the self-managed certificate is checked (default 1m)

Without --tls-cert and --tls-key (or --self-managed-certs), a CA and a serving certificate for localhost
are generated at start-up, and the path of the CA bundle is logged (use it with curl --cacert).`;

/** How long in-flight reviews may take to finish after SIGTERM before connections are cut. */
const SHUTDOWN_GRACE_MS = 25_000;
/** The poll behind fs.watch, for filesystems where events do not arrive. */
const WATCH_POLL_MS = 10_000;

interface ServeOptions {
  configFile?: string;
  port: number;
  host: string;
  tls?: { certFile: string; keyFile: string };
  logLevel: LogLevel;
  cluster: ClusterOptions;
}

type LogLevel = (typeof LOG_LEVELS)[number];

function parseLogLevel(text: string | undefined): LogLevel {
  if (text === undefined) return 'info';
  const level = LOG_LEVELS.find((l) => l === text);
  if (level === undefined)
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, not "${text}"`);
  return level;
}

class UsageError extends Error {
  override name = 'UsageError';
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

function parseServeArgs(args: string[]): ServeOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        config: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'log-level': { type: 'string' },
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
      },
    }));
  } catch (err: unknown) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  if (values.help) return 'help';
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
    cluster: clusterOptions(values),
  };
}

/** The certificate to start with, and for a generated one, the CA bundle file to remove at exit. */
function initialTls(
  opts: ServeOptions,
  logger: Logger,
  cluster?: ClusterFeatures,
): TlsMaterial & { caPath?: string } {
  if (opts.tls) return readTlsFiles(opts.tls.certFile, opts.tls.keyFile);
  if (cluster?.certs) {
    const m = cluster.certs.current();
    return { cert: m.certPem, key: m.keyPem };
  }
  const generated = selfSignedTls();
  logger.info(
    { caBundle: generated.caPath },
    `no --tls-cert/--tls-key: serving a generated certificate for localhost; trust it with curl --cacert ${generated.caPath}`,
  );
  return generated;
}

/** The mutable state behind the config provider and the readiness probe. */
interface State {
  config: Config;
  certificateLoaded: boolean;
  shuttingDown: boolean;
  cluster?: ClusterFeatures;
}

function readiness(state: State): { ready: boolean; reasons: string[] } {
  const reasons = [
    ...(state.certificateLoaded ? [] : ['no serving certificate']),
    ...(state.shuttingDown ? ['shutting down'] : []),
    ...(state.cluster?.notReady() ?? []),
  ];
  return { ready: reasons.length === 0, reasons };
}

function certificateLoaded(m: TlsMaterial, metrics: Metrics, logger: Logger, what: string): void {
  const notAfter = certificateNotAfter(m.cert);
  metrics.certificateExpiry.set(notAfter.getTime() / 1000);
  logger.info({ fingerprint: certificateFingerprint(m.cert), notAfter: notAfter.toISOString() }, what);
}

function watchConfig(file: string, state: State, metrics: Metrics, logger: Logger): FileWatch {
  return watchFiles(
    [file],
    () => {
      try {
        state.config = loadConfig(file);
        metrics.configReloads.inc({ result: 'success' });
        logger.info({ file, mode: state.config.mode }, 'config reloaded');
      } catch (err: unknown) {
        metrics.configReloads.inc({ result: 'failure' });
        const problem = err instanceof ConfigError ? err.message.split('\n') : ['unreadable'];
        logger.error(
          { file, problems: problem },
          'config change ignored: the new config is invalid, the previous one stays in force',
        );
      }
    },
    { pollMs: WATCH_POLL_MS },
  );
}

function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

/**
 * The responses not yet finished. At shutdown each gets `Connection: close`, like every request that
 * arrives after it, so a kept-alive connection ends with its last answer instead of lingering.
 */
function trackInFlight(server: Server, state: State): Set<ServerResponse> {
  const open = new Set<ServerResponse>();
  server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
    if (state.shuttingDown) {
      res.setHeader('Connection', 'close');
      return;
    }
    open.add(res);
    res.once('close', () => open.delete(res));
  });
  return open;
}

/** Resolves once the server has stopped after SIGTERM or SIGINT; a second signal cuts open connections. */
function serveUntilSignal(
  server: Server,
  state: State,
  logger: Logger,
  inFlight: Set<ServerResponse>,
  watches: FileWatch[],
): Promise<number> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      if (state.shuttingDown) {
        logger.warn({ signal }, 'second signal: closing open connections now');
        server.closeAllConnections();
        return;
      }
      state.shuttingDown = true;
      logger.info(
        { signal, inFlight: inFlight.size },
        'shutting down: no new connections, finishing reviews in flight',
      );
      for (const res of inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
      for (const w of watches) w.close();
      const force = setTimeout(() => {
        logger.warn(
          { graceMs: SHUTDOWN_GRACE_MS },
          'reviews still in flight after the grace period; closing connections',
        );
        server.closeAllConnections();
      }, SHUTDOWN_GRACE_MS);
      force.unref();
      server.close(() => {
        clearTimeout(force);
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
        logger.info('stopped');
        resolve(0);
      });
      server.closeIdleConnections();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}

function startWatches(
  opts: ServeOptions,
  server: Server,
  state: State,
  metrics: Metrics,
  logger: Logger,
): FileWatch[] {
  const watches: FileWatch[] = [];
  if (opts.tls) {
    const events = {
      onLoad: (m: TlsMaterial) => certificateLoaded(m, metrics, logger, 'serving certificate reloaded'),
      onError: (err: TlsError) =>
        logger.error({ problem: err.message }, 'certificate change ignored; still serving the previous one'),
    };
    watches.push(reloadTlsOnChange(server, opts.tls, events, WATCH_POLL_MS));
  }
  if (opts.configFile !== undefined) watches.push(watchConfig(opts.configFile, state, metrics, logger));
  return watches;
}

function removeCaBundle(caPath: string | undefined): void {
  if (caPath !== undefined) rmSync(dirname(caPath), { recursive: true, force: true });
}

function startupFailure(err: unknown): number {
  if (err instanceof UsageError) {
    process.stderr.write(`gloo-guard serve: ${err.message}\n${HELP}\n`);
    return 2;
  }
  if (err instanceof ConfigError || err instanceof TlsError) {
    process.stderr.write(`gloo-guard serve: ${err.message}\n`);
    return 2;
  }
  if (err instanceof KubeApiError) {
    process.stderr.write(`gloo-guard serve: cannot start the cluster features: ${err.message}\n`);
    return 1;
  }
  throw err;
}

async function serve(opts: ServeOptions): Promise<number> {
  const logger = createLogger(undefined, opts.logLevel);
  const state: State = {
    config: opts.configFile !== undefined ? loadConfig(opts.configFile) : defaultConfig(),
    certificateLoaded: false,
    shuttingDown: false,
  };
  const metrics = createMetrics();
  collectDefaultMetrics({ register: metrics.registry });
  if (needsCluster(opts.cluster)) {
    const { startCluster } = await import('./cluster.js');
    state.cluster = await startCluster(opts.cluster, () => state.config, logger, metrics);
  }
  const offload = new Offload();
  const tls = initialTls(opts, logger, state.cluster);
  const app = createApp({
    config: () => state.config,
    logger,
    metrics,
    readiness: () => readiness(state),
    evaluateOptions: () => state.cluster?.evaluateOptions() ?? {},
    offload,
    readData: () => state.cluster?.readData,
  });
  // 120 s keep-alive outlives the API server's 90 s idle timeout, so it never reuses a socket we just closed.
  // A client that never finishes its TLS handshake (10 s), its headers (20 s) or its request (30 s)
  // is cut off, checked every 5 s, so slow clients cannot hold connections open.
  const server = createServer(
    {
      ...tlsOptions(tls),
      keepAliveTimeout: 120_000,
      handshakeTimeout: 10_000,
      headersTimeout: 20_000,
      requestTimeout: 30_000,
      connectionsCheckingInterval: 5_000,
    },
    app,
  );
  const inFlight = trackInFlight(server, state);
  state.cluster?.certs?.onChange((m) => {
    server.setSecureContext(tlsOptions({ cert: m.certPem, key: m.keyPem }));
    certificateLoaded(
      { cert: m.certPem, key: m.keyPem },
      metrics,
      logger,
      'self-managed certificate rotated',
    );
  });
  certificateLoaded(tls, metrics, logger, 'serving certificate loaded');
  state.certificateLoaded = true;
  // Watching starts before listening, so a change made during start-up is not missed.
  const watches = startWatches(opts, server, state, metrics, logger);
  let address: AddressInfo;
  try {
    address = await listen(server, opts.port, opts.host);
  } catch (err: unknown) {
    for (const w of watches) w.close();
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    logger.error(
      { host: opts.host, port: opts.port, code },
      `cannot listen on ${opts.host}:${opts.port} (${code})`,
    );
    removeCaBundle(tls.caPath);
    await state.cluster?.stop();
    await offload.close();
    return 1;
  }
  logger.info(
    { address: address.address, port: address.port, mode: state.config.mode, onError: state.config.onError },
    `gloo-guard serving admission reviews on https://${opts.host}:${address.port}/validate`,
  );
  const code = await serveUntilSignal(server, state, logger, inFlight, watches);
  await state.cluster?.stop();
  await offload.close();
  logger.flush();
  // The generated CA's key died with the server, so its bundle can trust nothing any more.
  removeCaBundle(tls.caPath);
  return code;
}

/** Runs `gloo-guard serve`; resolves with the exit code once the server has stopped. */
export async function runServe(args: string[]): Promise<number> {
  try {
    const opts = parseServeArgs(args);
    if (opts === 'help') {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    return await serve(opts);
  } catch (err: unknown) {
    return startupFailure(err);
  }
}
