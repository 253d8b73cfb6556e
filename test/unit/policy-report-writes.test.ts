import { describe, expect, it } from 'vitest';
import type { PolicyReport } from '../../src/audit/policy-report.js';
import { writePolicyReports } from '../../src/audit/write-reports.js';
import { KubeApiError, type KubeRest } from '../../src/k8s/rest.js';

const report = (namespace: string): PolicyReport => ({
  apiVersion: 'wgpolicyk8s.io/v1alpha2',
  kind: 'PolicyReport',
  metadata: { name: 'gloo-guard', namespace, labels: { 'app.kubernetes.io/managed-by': 'gloo-guard' } },
  summary: { pass: 0, fail: 1, warn: 0, error: 0, skip: 0 },
  results: [],
});

/** An API that answers the report's PUT with 409 `conflicts` times (someone else wrote it), then 200. */
function api(conflicts: number): { rest: KubeRest; calls: string[] } {
  const calls: string[] = [];
  let left = conflicts;
  const rest = {
    call: (method: string, path: string) => {
      calls.push(`${method} ${path}`);
      if (method === 'GET' && path.endsWith('/policyreports/gloo-guard'))
        return Promise.resolve({
          status: 200,
          body: { metadata: { resourceVersion: String(calls.length) } },
        });
      if (method === 'PUT') return Promise.resolve({ status: left-- > 0 ? 409 : 200, body: {} });
      return Promise.resolve({ status: 200, body: {} });
    },
    // No reports of ours exist elsewhere, so nothing is deleted.
    list: () => [][Symbol.iterator](),
  } as unknown as KubeRest;
  return { rest, calls };
}

describe('writing PolicyReports', () => {
  it('when a replace meets a conflict (409), then the report is read again and written again', async () => {
    const { rest, calls } = api(2);
    expect(await writePolicyReports(rest, [report('apps')])).toEqual({ written: 1, deleted: 0 });
    expect(calls.filter((c) => c.startsWith('PUT'))).toHaveLength(3);
    expect(calls.filter((c) => c.startsWith('GET'))).toHaveLength(3);
  });

  it('when the conflict does not go away, then the write fails with a KubeApiError, never counted as written', async () => {
    const { rest } = api(100);
    const err: unknown = await writePolicyReports(rest, [report('apps')]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect((err as KubeApiError).status).toBe(409);
    expect((err as Error).message).toContain('PolicyReport apps/gloo-guard');
  });
});
