/** Connecting to the API server, and reading its errors. The only place a KubeConfig is loaded. */
import { KubeConfig } from '@kubernetes/client-node';
import { KubeApiError, KubeConfigError } from './rest.js';

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

/** One line describing a failed API call: the KubeApiError's text (method, path, the API server's message), or the error's message. */
export function describeApiError(err: unknown): string {
  if (err instanceof KubeApiError)
    return err.status === undefined ? err.message : `HTTP ${err.status}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}
