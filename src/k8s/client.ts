/** Connecting to the API server, and reading its errors. The only place a KubeConfig is loaded. */
import { ApiException, KubeConfig } from '@kubernetes/client-node';
import { isObject } from '../engine/values.js';
import { KubeConfigError } from './rest.js';

/** The field manager gloo-guard writes with, so `kubectl get --show-managed-fields` names it. */
export const FIELD_MANAGER = 'gloo-guard';

/**
 * Loads credentials from `file`, or the usual way: the pod's service account inside a cluster, else
 * $KUBECONFIG or ~/.kube/config (for running the server or the audit from a laptop).
 */
export function loadKubeConfig(file?: string): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (file !== undefined) kc.loadFromFile(file);
    else kc.loadFromDefault();
  } catch (err: unknown) {
    // Only the first line: the YAML parser's message goes on to quote the file around the error,
    // and a kubeconfig holds tokens and keys.
    // A TypeError is client-node reading fields of a document that is not there (an empty file).
    const reason =
      err instanceof TypeError
        ? 'it is empty or not a kubeconfig (kind: Config with clusters, users and contexts)'
        : ((err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '');
    throw new KubeConfigError(`cannot load kubeconfig ${file ?? '(default)'}: ${reason}`);
  }
  return kc;
}

/** The HTTP status of a failed API call, or undefined when the error is not an API response. */
export function apiStatus(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** One line describing a failed API call: status, reason and the API server's message when there is one. */
export function describeApiError(err: unknown): string {
  if (err instanceof ApiException) {
    const body = parseBody(err.body);
    const message = typeof body?.message === 'string' ? body.message : '';
    const reason = typeof body?.reason === 'string' ? body.reason : '';
    return `HTTP ${err.code}${reason ? ` ${reason}` : ''}${message ? `: ${message}` : ''}`;
  }
  return err instanceof Error ? err.message : String(err);
}

function parseBody(body: unknown): Record<string, unknown> | undefined {
  if (typeof body === 'string') {
    try {
      const parsed: unknown = JSON.parse(body);
      return isObject(parsed) ? parsed : undefined;
    } catch {
      return undefined;
    }
  }
  return isObject(body) ? body : undefined;
}
