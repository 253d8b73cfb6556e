// Least reach: the chart's matchConditions are generated from the policies' `match` declarations
// (scripts/gen-reach.ts). These tests keep the generated template current, check what it renders,
// and check that each declaration is sound: a policy never finds fault with what it does not match.
// The real API server evaluates the rendered CEL in test/e2e/reach.e2e.test.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/types.js';
import { clusterView } from '../../src/engine/cluster-view.js';
import { policyMatches } from '../../src/engine/match.js';
import type { ClusterView, ObjectRef, Subject } from '../../src/engine/types.js';
import { POLICIES } from '../../src/policies/index.js';
import { reachOf, reachTemplate } from '../../scripts/gen-reach.js';
import { CHART_DIR, FULLNAME, MAJORS, one, render, type Json } from './helm.js';

describe('generated matchConditions', () => {
  it('when a policy or its match changes, then templates/_reach.tpl must be regenerated (npm run docs:chart)', () => {
    expect(readFileSync(join(CHART_DIR, 'templates', '_reach.tpl'), 'utf8')).toBe(reachTemplate());
  });

  it('when every policy of a kind narrows it, then its webhook gets a condition; releases stay whole (Helm keeps the chart name inside the gzip)', () => {
    expect(reachOf('release').cel).toBeUndefined();
    expect(reachOf('namespace').cel).toBeDefined();
    expect(reachOf('deployment').cel).toBeDefined();
    expect(reachOf('service').cel).toBeDefined();
  });

  it.each(MAJORS)('when rendered with other namespaces (helm %s), then the conditions name them', (major) => {
    const objs = render(major, {
      set: [
        'namespaces.management=gm-prod',
        'namespaces.addons=gm-addons-prod',
        'webhooks.services.enabled=true',
      ],
    });
    const hooks: Json[] = one(objs, 'ValidatingWebhookConfiguration', FULLNAME).webhooks;
    const condition = (name: string): string | undefined =>
      hooks
        .find((w) => w.name === `${name}.gloo-guard.io`)
        ?.matchConditions.find((c: Json) => c.name === 'judged-by-a-policy')?.expression;
    expect(condition('releases')).toBeUndefined();
    expect(condition('namespaces')).toBe('object.metadata.name in ["gm-addons-prod", "gm-prod"]');
    expect(condition('deployments')).toContain('request.namespace in ["gm-addons-prod", "gm-prod"]');
    expect(condition('deployments')).toContain('object.metadata.name.startsWith("istiod")');
    expect(condition('services')).toBe('object.metadata.name in ["gloo-mesh-mgmt-server"]');
  });
});

/** Objects built to make every policy that could judge them find fault: injection on, bad images, insecure args. */
function deployment(name: string, namespace: string, labels: Record<string, string>): Subject {
  const object = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels },
    spec: {
      template: {
        metadata: {
          labels: { 'sidecar.istio.io/inject': 'true' },
          annotations: { 'sidecar.istio.io/inject': 'false' },
        },
        spec: {
          containers: [
            { name, image: `gcr.io/gloo-mesh/${name}:2.4.3`, args: ['--insecure', '--relay-insecure=true'] },
          ],
        },
      },
    },
  };
  return { kind: 'deployment', object: object as never, name, namespace, source: { location: 'test' } };
}

function namespace(name: string, labels: Record<string, string>): Subject {
  return { kind: 'namespace', object: { metadata: { name, labels } }, name, source: { location: 'test' } };
}

const cluster: ClusterView = clusterView({
  namespaceLabels: () => ({}),
  deployments: (): ObjectRef[] => [
    { name: 'gloo-mesh-mgmt-server', namespace: 'gloo-mesh', labels: {} },
    { name: 'istiod', namespace: 'istio-system', labels: { app: 'istiod' } },
  ],
  secretKnown: () => false,
});

describe('match declarations are sound', () => {
  const names = [
    'gloo-mesh-mgmt-server',
    'gloo-mesh-agent',
    'prometheus-server',
    'gloo-mesh-redis',
    'istiod',
    'istiod-1-22',
    'istiodx',
    'web',
    'gloo-mesh-ui',
  ];
  const namespaces = ['gloo-mesh', 'gloo-mesh-addons', 'istio-system', 'apps', ''];
  const labelSets: Array<Record<string, string>> = [
    {},
    { app: 'istiod' },
    { 'istio-injection': 'enabled' },
    { 'istio.io/rev': '1-22' },
    { app: 'web' },
  ];
  const ctxFor = (options: Record<string, unknown>) => ({
    namespaces: defaultConfig().namespaces,
    options,
    cluster,
  });

  it('when a policy finds fault with a Deployment or Namespace, then its match includes that object', () => {
    let judged = 0;
    for (const policy of POLICIES) {
      for (const kind of ['deployment', 'namespace'] as const) {
        if (!policy.appliesTo.includes(kind)) continue;
        for (const n of names)
          for (const ns of namespaces)
            for (const labels of labelSets) {
              const subject = kind === 'deployment' ? deployment(n, ns, labels) : namespace(ns || n, labels);
              const violations = policy.validate(subject, ctxFor({ suffix: '-fips' }));
              const target = {
                name: kind === 'namespace' ? ns || n : n,
                namespace: ns || (kind === 'namespace' ? n : ''),
                labels,
              };
              if (violations.length === 0) continue;
              judged += 1;
              expect(
                policyMatches(policy, kind, target, defaultConfig().namespaces),
                `${policy.id} finds fault with ${kind} ${ns}/${n} ${JSON.stringify(labels)} but does not match it`,
              ).toBe(true);
            }
      }
    }
    // The objects above do make policies find fault: the check is not vacuous.
    expect(judged).toBeGreaterThan(50);
  });
});
