/** What every caller of the API shares: the field manager it writes with, and how a failed call reads. */
import { KubeApiError } from './rest.js';

/** The field manager gloo-guard writes with, so `kubectl get --show-managed-fields` names it. */
export const FIELD_MANAGER = 'gloo-guard';

/** One line describing a failed API call: the KubeApiError's text (method, path, the API server's message), or the error's message. */
export function describeApiError(err: unknown): string {
  if (err instanceof KubeApiError)
    return err.status === undefined ? err.message : `HTTP ${err.status}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}
