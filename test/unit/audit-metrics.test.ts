import { describe, expect, it } from 'vitest';
import type { ClusterAudit } from '../../src/audit/audit.js';
import { createMetrics, recordAudit } from '../../src/server/metrics.js';

/** An audit that found one `no-insecure-relay` denial on each of `n` Deployments of one namespace. */
function auditWith(n: number): ClusterAudit {
  return {
    cluster: 'self',
    role: 'workload',
    errors: [],
    unread: [],
    releases: [],
    mgmtAddresses: [],
    counts: { namespaces: 1, deployments: n, releases: 0 },
    objects: Array.from({ length: n }, (_, i) => ({
      resource: { apiVersion: 'apps/v1', kind: 'Deployment', name: `agent-${i}`, namespace: 'apps' },
      result: {
        object: `Deployment apps/agent-${i}`,
        exempted: [],
        errors: [],
        notes: [],
        findings: [
          {
            policy: 'no-insecure-relay',
            action: 'deny' as const,
            severity: 'critical' as const,
            message: '[no-insecure-relay] ...',
            path: 'spec',
            fix: 'set insecure: false',
            source: 'self/deployment',
            object: `Deployment apps/agent-${i}`,
          },
        ],
      },
    })),
  };
}

describe('gloo_guard_audit_violations', () => {
  it('when 1,000 objects violate one policy in one namespace, then it is one series counting 1,000, with no object label', async () => {
    const m = createMetrics();
    recordAudit(m, auditWith(1000));
    const text = await m.registry.metrics();
    const series = text.split('\n').filter((l) => l.startsWith('gloo_guard_audit_violations{'));
    expect(series).toEqual([
      'gloo_guard_audit_violations{policy="no-insecure-relay",namespace="apps",action="deny"} 1000',
    ]);
  });

  it('when the next audit finds fewer, then the series follows it (replaced, not added to)', async () => {
    const m = createMetrics();
    recordAudit(m, auditWith(1000));
    recordAudit(m, auditWith(3));
    const text = await m.registry.metrics();
    expect(text).toContain(
      'gloo_guard_audit_violations{policy="no-insecure-relay",namespace="apps",action="deny"} 3',
    );
  });
});
