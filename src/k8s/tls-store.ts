/**
 * The two API objects the self-managed certificates touch: one Secret, and the caBundle of one
 * ValidatingWebhookConfiguration. Only the verbs the chart's RBAC grants are used: get and patch on
 * both, plus create on the Secret as a fallback when it is missing (the chart creates it empty).
 */
import {
  AdmissionregistrationV1Api,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1Secret,
} from '@kubernetes/client-node';
import { apiStatus, FIELD_MANAGER } from './client.js';

/** The Secret as last read: decoded data, annotations and the version to write against. */
export interface SecretSnapshot {
  /** Data values decoded from base64 to UTF-8 text. */
  data: Record<string, string>;
  annotations: Record<string, string>;
  resourceVersion: string;
}

/** A write either lands, or loses a race: the object exists already (create) or changed or vanished (patch). */
export type WriteResult =
  { ok: true; resourceVersion: string } | { ok: false; reason: 'exists' | 'conflict' | 'gone' };

/** The caBundle of one webhook, decoded from base64 to PEM ('' when unset). */
export interface WebhookCaBundle {
  name: string;
  caBundlePem: string;
}

/** Reads and writes the certificate Secret and the webhook configuration's caBundles. */
export interface TlsStore {
  /** Names of the objects, for messages. */
  readonly secretRef: string;
  readonly webhookConfigName: string;
  /** The Secret, or undefined when it does not exist. */
  readSecret(): Promise<SecretSnapshot | undefined>;
  /** Creates the Secret (type kubernetes.io/tls); `exists` when another replica created it first. */
  createSecret(data: Record<string, string>, annotations: Record<string, string>): Promise<WriteResult>;
  /**
   * Sets these data keys and annotations, only if the Secret is still at `resourceVersion`
   * (optimistic concurrency: another replica's write in between gives `conflict`). Other keys,
   * labels and annotations (Helm's ownership metadata) are left alone.
   */
  patchSecret(
    data: Record<string, string>,
    annotations: Record<string, string>,
    resourceVersion: string,
  ): Promise<WriteResult>;
  /** Every webhook's caBundle, or undefined when the configuration does not exist. */
  readWebhookCaBundles(): Promise<WebhookCaBundle[] | undefined>;
  /** Sets the same caBundle on the named webhooks (a strategic merge patch keyed by webhook name). */
  patchWebhookCaBundles(names: readonly string[], caBundlePem: string): Promise<void>;
}

/** Which objects a TlsStore manages. */
export interface TlsStoreRefs {
  namespace: string;
  secretName: string;
  webhookConfigName: string;
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string): string => Buffer.from(s, 'base64').toString('utf8');

function decodeData(data: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(data ?? {}).map(([k, v]) => [k, unb64(v)]));
}

function encodeData(data: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)]));
}

function snapshot(secret: V1Secret): SecretSnapshot {
  return {
    data: decodeData(secret.data),
    annotations: secret.metadata?.annotations ?? {},
    resourceVersion: secret.metadata?.resourceVersion ?? '',
  };
}

/** A TlsStore backed by the API server. */
export function createTlsStore(kc: KubeConfig, refs: TlsStoreRefs): TlsStore {
  const core = kc.makeApiClient(CoreV1Api);
  const admission = kc.makeApiClient(AdmissionregistrationV1Api);
  const { namespace, secretName: name, webhookConfigName } = refs;

  return {
    secretRef: `${namespace}/${name}`,
    webhookConfigName,

    async readSecret(): Promise<SecretSnapshot | undefined> {
      try {
        return snapshot(await core.readNamespacedSecret({ name, namespace }));
      } catch (err: unknown) {
        if (apiStatus(err) === 404) return undefined;
        throw err;
      }
    },

    async createSecret(data, annotations): Promise<WriteResult> {
      const body: V1Secret = {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name, namespace, annotations, labels: { 'app.kubernetes.io/managed-by': 'gloo-guard' } },
        type: 'kubernetes.io/tls',
        data: encodeData(data),
      };
      try {
        const created = await core.createNamespacedSecret({ namespace, body, fieldManager: FIELD_MANAGER });
        return { ok: true, resourceVersion: created.metadata?.resourceVersion ?? '' };
      } catch (err: unknown) {
        if (apiStatus(err) === 409) return { ok: false, reason: 'exists' };
        throw err;
      }
    },

    async patchSecret(data, annotations, resourceVersion): Promise<WriteResult> {
      // A merge patch that carries metadata.resourceVersion is refused with 409 if the Secret moved on.
      const body = { metadata: { resourceVersion, annotations }, data: encodeData(data) };
      try {
        const patched = await core.patchNamespacedSecret(
          { name, namespace, body, fieldManager: FIELD_MANAGER },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
        return { ok: true, resourceVersion: patched.metadata?.resourceVersion ?? '' };
      } catch (err: unknown) {
        const status = apiStatus(err);
        if (status === 409) return { ok: false, reason: 'conflict' };
        if (status === 404) return { ok: false, reason: 'gone' };
        throw err;
      }
    },

    async readWebhookCaBundles(): Promise<WebhookCaBundle[] | undefined> {
      try {
        const config = await admission.readValidatingWebhookConfiguration({ name: webhookConfigName });
        return (config.webhooks ?? []).map((w) => ({
          name: w.name,
          caBundlePem: w.clientConfig.caBundle ? unb64(w.clientConfig.caBundle) : '',
        }));
      } catch (err: unknown) {
        if (apiStatus(err) === 404) return undefined;
        throw err;
      }
    },

    async patchWebhookCaBundles(names, caBundlePem): Promise<void> {
      const caBundle = b64(caBundlePem);
      const body = { webhooks: names.map((n) => ({ name: n, clientConfig: { caBundle } })) };
      await admission.patchValidatingWebhookConfiguration(
        { name: webhookConfigName, body, fieldManager: FIELD_MANAGER },
        setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
      );
    },
  };
}
