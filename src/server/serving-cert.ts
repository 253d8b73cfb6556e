/** Which certificate `serve` starts with, and what it records each time one is loaded. */
import type { KeyPair } from '../certs/generate.js';
import type { ClusterFeatures } from './cluster-options.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';
import {
  certificateFingerprint,
  certificateNotAfter,
  readTlsFiles,
  selfSignedTls,
  type TlsFiles,
} from './tls.js';

/** The certificate to start with, and for a generated one, the CA bundle file to remove at exit. */
export function initialTls(
  files: TlsFiles | undefined,
  logger: Logger,
  cluster?: ClusterFeatures,
): KeyPair & { caPath?: string } {
  if (files) return readTlsFiles(files.certFile, files.keyFile);
  if (cluster?.certs) return cluster.certs.current();
  const generated = selfSignedTls();
  logger.info(
    { caBundle: generated.caPath },
    `no --tls-cert/--tls-key: serving a generated certificate for localhost; trust it with curl --cacert ${generated.caPath}`,
  );
  return generated;
}

/** Records a certificate now served: its expiry as a metric, its fingerprint in the log. */
export function certificateLoaded(m: KeyPair, metrics: Metrics, logger: Logger, what: string): void {
  const notAfter = certificateNotAfter(m.certPem);
  metrics.certificateExpiry.set(notAfter.getTime() / 1000);
  logger.info({ fingerprint: certificateFingerprint(m.certPem), notAfter: notAfter.toISOString() }, what);
}
