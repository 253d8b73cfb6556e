/**
 * Self-managed webhook certificates: every replica runs this loop against one shared Secret.
 *
 * How replicas agree without a leader: the Secret is the single source of truth and every write to
 * it is conditional (create fails with 409 if another replica created it; a patch carries the
 * resourceVersion it was computed from and fails with 409 if the Secret moved on). A replica that
 * loses re-reads and adopts the winner's certificates. The webhook configuration's caBundle is then
 * made equal to the Secret's ca.crt, which holds the new and the previous CA during a CA change.
 *
 * A replica serves a certificate only once its CA is in the webhook configuration: if this check had
 * to patch the caBundle, it waits `propagationDelayMs` before switching, so the API server never meets
 * a certificate it does not trust yet.
 */
import { X509Certificate } from 'node:crypto';
import type { ApiAccess } from '../k8s/kubeconfig.js';
import type { KeyPair } from './generate.js';
import { describeApiError } from '../k8s/client.js';
import { createTlsStore, type SecretSnapshot, type TlsStore } from '../k8s/tls-store.js';
import {
  DEFAULT_THRESHOLDS,
  DEFAULT_VALIDITY,
  mergeCaBundle,
  nextState,
  notAfter,
  planRotation,
  serviceDnsNames,
  splitPemBundle,
  stateFromSecretData,
  stateToSecretData,
  type CertState,
  type RotationThresholds,
  type Validity,
} from './rotation.js';

/** What the HTTPS server needs: its certificate and key, and the CA bundle the API server trusts. */
export interface TlsMaterial extends KeyPair {
  caBundlePem: string;
}

/** The running certificate manager handed to the server. */
export interface SelfManagedCerts {
  /** The certificate to serve now. */
  current(): TlsMaterial;
  /** Called after each switch to a new certificate (own rotation, or one done by another replica). */
  onChange(cb: (material: TlsMaterial) => void): void;
  /** Runs one check now; the periodic loop calls the same thing. Rejects only on errors. */
  checkNow(): Promise<void>;
  /** Stops the periodic check. Idempotent. */
  stop(): void;
}

/** A logger with pino's argument order (object first), so a pino logger fits. */
export interface CertLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Settings shared by startSelfManagedCerts and startCertRotation. */
export interface CertRotationOptions {
  /** Namespace of the Service and the Secret. */
  namespace: string;
  /** The webhook Service: the certificate is issued for `<serviceName>.<namespace>.svc` and its short forms. */
  serviceName: string;
  /** More DNS names for the certificate (a webhook called by URL, e.g. `localhost` in tests). */
  extraDnsNames?: string[];
  log: CertLogger;
  /** Clock, for tests. */
  now?: () => Date;
  /** How often to check the Secret and the webhook configuration. Default 60 s. */
  checkIntervalMs?: number;
  /** How soon to retry after a failed check, or while the webhook configuration is missing. Default 10 s. */
  retryIntervalMs?: number;
  /** How long to wait after patching the caBundle before serving a certificate from a new CA. Default 3 s. */
  propagationDelayMs?: number;
  /** Startup keeps retrying the first check for this long before rejecting. Default 60 s. */
  startTimeoutMs?: number;
  thresholds?: Partial<RotationThresholds>;
  validity?: Partial<Validity>;
}

/** Options of startSelfManagedCerts: the API client and the names of the objects it may touch. */
export interface SelfManagedCertsOptions extends CertRotationOptions {
  /** The API server and credentials (src/k8s/kubeconfig.ts). */
  client: ApiAccess;
  /** Secret holding ca.crt, ca.key, tls.crt and tls.key. */
  secretName: string;
  /** ValidatingWebhookConfiguration whose webhooks get the caBundle. */
  webhookConfigName: string;
}

/**
 * Starts self-managed certificates: resolves once this replica has a certificate to serve (creating
 * or adopting the shared one), then checks every `checkIntervalMs` for expiry and for changes made by
 * other replicas. The server calls `current()` for its first TLS context and `onChange` to swap it.
 */
export async function startSelfManagedCerts(opts: SelfManagedCertsOptions): Promise<SelfManagedCerts> {
  const store = createTlsStore(opts.client, {
    namespace: opts.namespace,
    secretName: opts.secretName,
    webhookConfigName: opts.webhookConfigName,
  });
  return startCertRotation(store, opts);
}

const MAX_WRITE_ATTEMPTS = 5;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Settings {
  dnsNames: string[];
  now: () => Date;
  checkIntervalMs: number;
  retryIntervalMs: number;
  propagationDelayMs: number;
  startTimeoutMs: number;
  thresholds: RotationThresholds;
  validity: Validity;
  log: CertLogger;
}

function settings(opts: CertRotationOptions): Settings {
  return {
    dnsNames: [...serviceDnsNames(opts.serviceName, opts.namespace), ...(opts.extraDnsNames ?? [])],
    now: opts.now ?? ((): Date => new Date()),
    checkIntervalMs: opts.checkIntervalMs ?? 60_000,
    retryIntervalMs: opts.retryIntervalMs ?? 10_000,
    propagationDelayMs: opts.propagationDelayMs ?? 3_000,
    startTimeoutMs: opts.startTimeoutMs ?? 60_000,
    thresholds: { ...DEFAULT_THRESHOLDS, ...opts.thresholds },
    validity: { ...DEFAULT_VALIDITY, ...opts.validity },
    log: opts.log,
  };
}

function annotationsFor(state: CertState): Record<string, string> {
  const ca = new X509Certificate(splitPemBundle(state.caBundlePem)[0] ?? '');
  return {
    'gloo-guard.io/ca-not-after': notAfter(ca).toISOString(),
    'gloo-guard.io/cert-not-after': notAfter(new X509Certificate(state.certPem)).toISOString(),
  };
}

/** Reads the Secret and, if it needs it, writes the next state; on a lost race re-reads and re-decides. */
async function ensureSecret(store: TlsStore, s: Settings): Promise<CertState> {
  for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt++) {
    const stored: SecretSnapshot | undefined = await store.readSecret();
    const state = stateFromSecretData(stored?.data);
    const now = s.now();
    const plan = planRotation(state, { now, dnsNames: s.dnsNames, thresholds: s.thresholds });
    if (plan.decision === 'none') return nextState('none', state, { now, dnsNames: s.dnsNames });
    const next = nextState(plan.decision, state, { now, dnsNames: s.dnsNames, validity: s.validity });
    const data = stateToSecretData(next);
    const result = stored
      ? await store.patchSecret(data, annotationsFor(next), stored.resourceVersion)
      : await createSecret(store, data, annotationsFor(next));
    if (result.ok) {
      s.log.info(
        { secret: store.secretRef, decision: plan.decision, reason: plan.reason },
        'stored new webhook certificates',
      );
      return next;
    }
    s.log.info(
      { secret: store.secretRef, attempt, lost: result.reason },
      'another replica changed the certificate Secret first; re-reading it',
    );
  }
  throw new Error(`Secret ${store.secretRef}: gave up after ${MAX_WRITE_ATTEMPTS} conflicting writes`);
}

async function createSecret(
  store: TlsStore,
  data: Record<string, string>,
  annotations: Record<string, string>,
): ReturnType<TlsStore['createSecret']> {
  try {
    return await store.createSecret(data, annotations);
  } catch (err: unknown) {
    // The chart creates the Secret so that RBAC needs no `create` (which cannot be limited by name).
    throw new Error(
      `Secret ${store.secretRef} does not exist and could not be created (${describeApiError(err)}); ` +
        'the Helm chart creates it: `helm upgrade` restores a deleted one',
      { cause: err },
    );
  }
}

/** Makes every webhook's caBundle equal to the bundle; true when it had to patch. undefined: no configuration yet. */
async function ensureWebhookBundle(
  store: TlsStore,
  bundlePem: string,
  s: Settings,
): Promise<boolean | undefined> {
  const webhooks = await store.readWebhookCaBundles();
  if (webhooks === undefined) {
    s.log.warn(
      { webhookConfiguration: store.webhookConfigName },
      'the ValidatingWebhookConfiguration does not exist yet; will set its caBundle when it does',
    );
    return undefined;
  }
  const now = s.now();
  const target = mergeCaBundle([bundlePem], now);
  const stale = webhooks.filter((w) => mergeCaBundle([w.caBundlePem], now) !== target).map((w) => w.name);
  if (stale.length === 0) return false;
  await store.patchWebhookCaBundles(stale, target);
  s.log.info(
    { webhookConfiguration: store.webhookConfigName, webhooks: stale },
    'updated the caBundle of webhooks',
  );
  return true;
}

const material = (state: CertState, now: Date): TlsMaterial => ({
  certPem: state.certPem,
  keyPem: state.keyPem,
  caBundlePem: mergeCaBundle([state.caBundlePem], now),
});

/**
 * The loop behind startSelfManagedCerts, over any TlsStore (tests use an in-memory one). Resolves
 * after the first successful check, retrying until `startTimeoutMs`.
 */
export async function startCertRotation(
  store: TlsStore,
  opts: CertRotationOptions,
): Promise<SelfManagedCerts> {
  const s = settings(opts);
  const listeners: Array<(m: TlsMaterial) => void> = [];
  let served: TlsMaterial | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<boolean> | undefined;

  const switchTo = (next: TlsMaterial): void => {
    const changed = served !== undefined && served.certPem !== next.certPem;
    served = next;
    if (!changed || stopped) return;
    s.log.info({ secret: store.secretRef }, 'serving a new webhook certificate');
    for (const cb of listeners) {
      try {
        cb(next);
      } catch (err: unknown) {
        s.log.error({ err }, 'a certificate change listener failed');
      }
    }
  };

  /** One check; resolves true when everything is in place, false when the webhook configuration is missing. */
  const check = async (): Promise<boolean> => {
    const state = await ensureSecret(store, s);
    const patched = await ensureWebhookBundle(store, state.caBundlePem, s);
    const next = material(state, s.now());
    if (served?.certPem !== next.certPem && patched === true && s.propagationDelayMs > 0) {
      await sleep(s.propagationDelayMs);
    }
    switchTo(next);
    return patched !== undefined;
  };

  const checkOnce = (): Promise<boolean> => {
    // Never two checks at once in one process: a second caller waits for the running one.
    running ??= check().finally(() => {
      running = undefined;
    });
    return running;
  };

  const schedule = (ms: number): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      checkOnce().then(
        (complete) => schedule(complete ? s.checkIntervalMs : s.retryIntervalMs),
        (err: unknown) => {
          s.log.error(
            { err, detail: describeApiError(err) },
            'webhook certificate check failed; keeping the current certificate',
          );
          schedule(s.retryIntervalMs);
        },
      );
    }, ms);
    timer.unref();
  };

  const deadline = Date.now() + s.startTimeoutMs;
  let complete = false;
  for (let delay = 1_000; ; delay = Math.min(delay * 2, 10_000)) {
    try {
      complete = await checkOnce();
      break;
    } catch (err: unknown) {
      if (Date.now() + delay > deadline) throw err;
      s.log.warn(
        { err, detail: describeApiError(err), retryInMs: delay },
        'cannot set up webhook certificates yet',
      );
      await sleep(delay);
    }
  }
  schedule(complete ? s.checkIntervalMs : s.retryIntervalMs);

  return {
    current(): TlsMaterial {
      // Set by the first successful check, which startCertRotation awaited.
      return served!;
    },
    onChange(cb): void {
      listeners.push(cb);
    },
    async checkNow(): Promise<void> {
      await checkOnce();
    },
    stop(): void {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
