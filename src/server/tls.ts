/**
 * The serving certificate: generated at start-up when no files are given (the CA bundle is written
 * out so a client can trust it), or read from files and swapped in with setSecureContext when they
 * change, so a rotated Secret is served without a restart and without dropping connections.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:https';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { generateServingBundle, type KeyPair } from '../certs/generate.js';
import { watchFiles, type FileWatch } from './watch.js';

/** TLS 1.2 is the floor, as Kubernetes' own components require. */
export const TLS_MIN_VERSION = 'TLSv1.2';

/** The files a serving certificate (PEM, possibly a chain) and its key are read from. */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

/** A generated certificate, with where its CA bundle was written. */
export interface SelfSignedTls extends KeyPair {
  caPath: string;
}

/** Certificate files that cannot be used; the message names the file and the problem. */
export class TlsError extends Error {
  override name = 'TlsError';
}

/** The options of a TLS server or secure context for this material. */
export function tlsOptions(m: KeyPair): SecureContextOptions & { minVersion: typeof TLS_MIN_VERSION } {
  return { cert: m.certPem, key: m.keyPem, minVersion: TLS_MIN_VERSION };
}

/** When the (first) certificate expires. */
export function certificateNotAfter(certPem: string): Date {
  return new Date(new X509Certificate(certPem).validTo);
}

/** The SHA-256 fingerprint of the (first) certificate, as `openssl x509 -fingerprint` shows it. */
export function certificateFingerprint(certPem: string): string {
  return new X509Certificate(certPem).fingerprint256;
}

/** Generates a CA and a serving certificate for this host, and writes the CA bundle to a new temp dir. */
export function selfSignedTls(opts: { days?: number; dnsNames?: string[] } = {}): SelfSignedTls {
  const dnsNames = opts.dnsNames ?? [...new Set(['localhost', hostname()])];
  const bundle = generateServingBundle({
    dnsNames,
    ipAddresses: ['127.0.0.1', '::1'],
    days: opts.days ?? 30,
  });
  const dir = mkdtempSync(join(tmpdir(), 'gloo-guard-'));
  const caPath = join(dir, 'ca.crt');
  // Only the CA certificate leaves the process: the CA key is dropped, the serving key stays in memory.
  writeFileSync(caPath, bundle.ca.certPem, { mode: 0o644 });
  return { ...bundle.serving, caPath };
}

function readPem(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err: unknown) {
    throw new TlsError(
      `${file}: cannot read the ${what} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`,
    );
  }
}

/** Reads a certificate and key and checks that they form a usable pair. */
export function readTlsFiles(certFile: string, keyFile: string): KeyPair {
  const m = { certPem: readPem(certFile, 'certificate'), keyPem: readPem(keyFile, 'key') };
  try {
    createSecureContext(tlsOptions(m));
    certificateNotAfter(m.certPem);
  } catch (err: unknown) {
    // OpenSSL's reason (e.g. "key values mismatch") names the problem without quoting the key.
    const reason = err instanceof Error ? err.message.split('\n')[0] : 'unusable';
    throw new TlsError(`${certFile} and ${keyFile} are not a usable certificate and key (${reason})`);
  }
  return m;
}

/** What a reload reports. */
export interface TlsReloadEvents {
  onLoad(m: KeyPair): void;
  onError(err: TlsError): void;
}

/**
 * Serves the files' new certificate whenever they change. A half-written pair (the certificate
 * replaced, the key not yet) is reported and the old one kept; the next change retries.
 */
export function reloadTlsOnChange(
  server: Server,
  files: TlsFiles,
  events: TlsReloadEvents,
  pollMs = 10_000,
): FileWatch {
  const reload = (): void => {
    let m: KeyPair;
    try {
      m = readTlsFiles(files.certFile, files.keyFile);
    } catch (err: unknown) {
      events.onError(err instanceof TlsError ? err : new TlsError('cannot reload the certificate'));
      return;
    }
    server.setSecureContext(tlsOptions(m));
    events.onLoad(m);
  };
  return watchFiles([files.certFile, files.keyFile], reload, { pollMs });
}
