/**
 * `gloo-guard serve`: builds the app, serves it over HTTPS, reloads the certificate and config when
 * their files change, and shuts down gracefully on SIGTERM or SIGINT. The arguments are read by
 * src/cli/serve.ts.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { rmSync } from 'node:fs';
import { collectDefaultMetrics } from 'prom-client';
import type { KeyPair } from '../certs/generate.js';
import { loadConfig } from '../config/load.js';
import { defaultConfig } from '../config/types.js';
import { createApp } from './app.js';
import { needsCluster, type ClusterOptions } from './cluster-options.js';
import { watchConfig } from './config-reload.js';
import { InFlight, listen, serveUntilSignal } from './lifecycle.js';
import { createLogger, type LogLevel, type Logger } from './log.js';
import { createMetrics, type Metrics } from './metrics.js';
import { MAX_LARGE_BODIES, Offload, workerFile } from './offload.js';
import { readiness, type State } from './serve-state.js';
import { certificateLoaded, initialTls } from './serving-cert.js';
import { reloadTlsOnChange, tlsOptions, type TlsError, type TlsFiles } from './tls.js';
import type { FileWatch } from './watch.js';

/** The poll behind fs.watch, for filesystems where events do not arrive. */
const WATCH_POLL_MS = 10_000;

/** What `serve` runs with, from its arguments. */
export interface ServeOptions {
  configFile?: string;
  port: number;
  host: string;
  tls?: TlsFiles;
  logLevel: LogLevel;
  /** Start the offload worker with the server, warmed on a made-up release (warmup.ts). */
  warmUp: boolean;
  cluster: ClusterOptions;
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
      onLoad: (m: KeyPair) => certificateLoaded(m, metrics, logger, 'serving certificate reloaded'),
      onError: (err: TlsError) =>
        logger.error({ problem: err.message }, 'certificate change ignored; still serving the previous one'),
    };
    watches.push(reloadTlsOnChange(server, opts.tls, events, WATCH_POLL_MS));
  }
  if (opts.configFile !== undefined)
    watches.push(watchConfig(opts.configFile, state, metrics, logger, WATCH_POLL_MS));
  return watches;
}

function removeCaBundle(caPath: string | undefined): void {
  if (caPath !== undefined) rmSync(dirname(caPath), { recursive: true, force: true });
}

/** Serves until SIGTERM or SIGINT; resolves with the exit code. Errors before serving are thrown. */
export async function serve(opts: ServeOptions): Promise<number> {
  const logger = createLogger(undefined, opts.logLevel);
  const state: State = {
    config: opts.configFile !== undefined ? loadConfig(opts.configFile) : defaultConfig(),
    certificateLoaded: false,
    inFlight: new InFlight(),
  };
  const metrics = createMetrics();
  collectDefaultMetrics({ register: metrics.registry });
  if (needsCluster(opts.cluster)) {
    const { startCluster } = await import('./cluster.js');
    state.cluster = await startCluster(opts.cluster, () => state.config, logger, metrics);
  }
  const offload = new Offload(MAX_LARGE_BODIES, workerFile(), { warmUp: opts.warmUp });
  const tls = initialTls(opts.tls, logger, state.cluster);
  const app = createApp({
    config: () => state.config,
    logger,
    metrics,
    readiness: () => readiness(state),
    evaluateOptions: () => state.cluster?.evaluateOptions() ?? {},
    offload,
    readData: () => state.cluster?.readData,
    inFlight: state.inFlight,
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
  state.cluster?.certs?.onChange((m) => {
    server.setSecureContext(tlsOptions(m));
    certificateLoaded(m, metrics, logger, 'self-managed certificate rotated');
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
  // After listening: the worker warms up in its own thread while the server already answers.
  if (opts.warmUp)
    void offload.startNow().then(async (w) => {
      if (w === undefined) return;
      const fields = { ms: w.ms, heapLimitMiB: await offload.workerHeapLimitMiB() };
      if (w.ok) logger.info(fields, 'the worker for large releases is started and warmed up');
      else logger.warn(fields, 'the worker for large releases started, but its warm-up failed');
    });
  const code = await serveUntilSignal(server, state, logger, watches);
  await state.cluster?.stop();
  await offload.close();
  logger.flush();
  // The generated CA's key died with the server, so its bundle can trust nothing any more.
  removeCaBundle(tls.caPath);
  return code;
}
