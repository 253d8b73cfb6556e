/**
 * The two API objects the self-managed certificates touch: one Secret, and the caBundle of one
 * ValidatingWebhookConfiguration. Only the verbs the chart's RBAC grants are used: get and patch on
 * both, plus create on the Secret as a fallback when it is missing (the chart creates it empty).
 */
import type { V1Secret, V1ValidatingWebhookConfiguration } from '@kubernetes/client-node';
import type { ApiAccess } from './kubeconfig.js';
import { FIELD_MANAGER } from './client.js';
import { KubeApiError, KubeRest } from './rest.js';

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

const MERGE_PATCH = 'application/merge-patch+json';
const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';
const MANAGER = `fieldManager=${FIELD_MANAGER}`;

/** The new resourceVersion of a written object. */
const versionOf = (body: unknown): string => (body as V1Secret | undefined)?.metadata?.resourceVersion ?? '';

/**
 * A TlsStore backed by the API server, through the one REST client of k8s/ (KubeRest): it throws a
 * KubeApiError for every failed call but 404 and 409, which are answers here (missing, raced).
 */
export function createTlsStore(access: ApiAccess, refs: TlsStoreRefs): TlsStore {
  const rest = new KubeRest(access, 30_000);
  const { namespace, secretName: name, webhookConfigName } = refs;
  const secrets = `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`;
  const secretPath = `${secrets}/${encodeURIComponent(name)}`;
  const webhookPath = `/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/${encodeURIComponent(webhookConfigName)}`;

  return {
    secretRef: `${namespace}/${name}`,
    webhookConfigName,

    async readSecret(): Promise<SecretSnapshot | undefined> {
      const r = await rest.call('GET', secretPath);
      return r.status === 404 ? undefined : snapshot(r.body as V1Secret);
    },

    async createSecret(data, annotations): Promise<WriteResult> {
      const body: V1Secret = {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name, namespace, annotations, labels: { 'app.kubernetes.io/managed-by': 'gloo-guard' } },
        type: 'kubernetes.io/tls',
        data: encodeData(data),
      };
      const r = await rest.call('POST', `${secrets}?${MANAGER}`, { body });
      if (r.status === 409) return { ok: false, reason: 'exists' };
      // 404 here is the namespace missing: a failure, never a Secret that was written.
      if (r.status === 404)
        throw new KubeApiError(`POST ${secrets}: HTTP 404 (namespace ${namespace} not found)`, 404);
      return { ok: true, resourceVersion: versionOf(r.body) };
    },

    async patchSecret(data, annotations, resourceVersion): Promise<WriteResult> {
      // A merge patch that carries metadata.resourceVersion is refused with 409 if the Secret moved on.
      const body = { metadata: { resourceVersion, annotations }, data: encodeData(data) };
      const r = await rest.call('PATCH', `${secretPath}?${MANAGER}`, { body, contentType: MERGE_PATCH });
      if (r.status === 409) return { ok: false, reason: 'conflict' };
      if (r.status === 404) return { ok: false, reason: 'gone' };
      return { ok: true, resourceVersion: versionOf(r.body) };
    },

    async readWebhookCaBundles(): Promise<WebhookCaBundle[] | undefined> {
      const r = await rest.call('GET', webhookPath);
      if (r.status === 404) return undefined;
      return ((r.body as V1ValidatingWebhookConfiguration).webhooks ?? []).map((w) => ({
        name: w.name,
        caBundlePem: w.clientConfig.caBundle ? unb64(w.clientConfig.caBundle) : '',
      }));
    },

    async patchWebhookCaBundles(names, caBundlePem): Promise<void> {
      const caBundle = b64(caBundlePem);
      const body = { webhooks: names.map((n) => ({ name: n, clientConfig: { caBundle } })) };
      const r = await rest.call('PATCH', `${webhookPath}?${MANAGER}`, {
        body,
        contentType: STRATEGIC_MERGE_PATCH,
      });
      if (r.status === 404 || r.status === 409)
        throw new KubeApiError(`PATCH ${webhookPath}: HTTP ${r.status}`, r.status);
    },
  };
}
