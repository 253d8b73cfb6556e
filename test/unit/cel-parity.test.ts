// The Istio injection rules live twice: in TypeScript (src/policies/util.ts, for Helm values and the
// cluster view) and in CEL (src/rules/builtin.ts, for objects, in the engine and the API server).
// These tests run both over every Namespace and Deployment in the policy fixtures
// (test/policies/*/*.yaml) and over generated label sets, and require the same verdict and path,
// so the two cannot drift apart.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { subjectFromObject } from '../../src/engine/subjects.js';
import type { PolicyContext, Subject } from '../../src/engine/types.js';
import { namespaceInjection, podInjection } from '../../src/policies/util.js';
import { runCelChecks } from '../../src/rules/checks.js';

const ROOT = join(import.meta.dirname, '..', 'policies');
const NAMESPACES = { management: 'gloo-mesh', addons: 'gloo-mesh-addons' };
const CTX: PolicyContext = { namespaces: NAMESPACES, options: {} };
const MGMT = 'no-injection-in-gloo-mesh';
const ADDONS = 'addons-namespace-injection';

/** Every Namespace and Deployment object of every fixture, with the file it came from. */
function fixtureObjects(): Array<{ file: string; subject: Subject }> {
  const out: Array<{ file: string; subject: Subject }> = [];
  for (const dir of readdirSync(ROOT, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    for (const name of readdirSync(join(ROOT, dir.name)).filter((n) => n.endsWith('.yaml'))) {
      const file = `${dir.name}/${name}`;
      const f = parse(readFileSync(join(ROOT, file), 'utf8')) as { objects?: unknown[] } | null;
      for (const o of f?.objects ?? []) {
        const subject = subjectFromObject(o, { location: file }, 1 << 20);
        if (subject?.kind === 'namespace' || subject?.kind === 'deployment') out.push({ file, subject });
      }
    }
  }
  return out;
}

type Verdict = Array<{ policy: string; path: string }>;

/** The verdict util.ts implies for an object: which injection policy finds fault, at which path. */
function typescriptVerdict(s: Subject): Verdict {
  if (s.kind === 'namespace') {
    const labels = s.object.metadata?.labels ?? {};
    const injection = namespaceInjection(labels);
    if (s.name === NAMESPACES.addons && injection !== 'enabled')
      return [{ policy: ADDONS, path: 'metadata.labels' }];
    if (s.name !== NAMESPACES.management || injection !== 'enabled') return [];
    const label =
      labels['istio.io/dataplane-mode'] === 'ambient'
        ? 'istio.io/dataplane-mode'
        : labels['istio-injection'] === 'enabled'
          ? 'istio-injection'
          : 'istio.io/rev';
    return [{ policy: MGMT, path: `metadata.labels["${label}"]` }];
  }
  if (s.kind !== 'deployment') return [];
  const pod = podInjection(s.object.spec?.template?.metadata);
  const path = `spec.template.metadata.${pod.path}`;
  if (s.namespace === NAMESPACES.management && pod.injection === 'enabled') return [{ policy: MGMT, path }];
  if (s.namespace === NAMESPACES.addons && pod.injection === 'disabled') return [{ policy: ADDONS, path }];
  return [];
}

function celVerdict(s: Subject): Verdict {
  return [MGMT, ADDONS].flatMap((policy) =>
    runCelChecks(policy, s, CTX).map((v) => ({ policy, path: v.path })),
  );
}

describe('the CEL injection checks agree with policies/util.ts', () => {
  const objects = fixtureObjects();

  it('when the fixtures are read, then there are Namespaces and Deployments of both namespaces to compare', () => {
    const names = objects.map(({ subject: s }) =>
      s.kind === 'namespace' ? s.name : s.kind === 'deployment' ? `deployment:${s.namespace ?? ''}` : '',
    );
    expect(names).toContain(NAMESPACES.management);
    expect(names).toContain(NAMESPACES.addons);
    expect(names).toContain(`deployment:${NAMESPACES.management}`);
    expect(names).toContain(`deployment:${NAMESPACES.addons}`);
  });

  it.each(objects.map((o) => [o.file, o.subject] as const))(
    'when %s is judged, then both give the same verdict',
    (_file, subject) => {
      expect(celVerdict(subject)).toEqual(typescriptVerdict(subject));
    },
  );

  // Istio's own label and annotation values, plus values that decide nothing.
  const value = fc.constantFrom('true', 'false', 'enabled', 'disabled', 'ambient', 'none', '', '1-20');
  const key = fc.constantFrom(
    'istio-injection',
    'istio.io/rev',
    'istio.io/dataplane-mode',
    'sidecar.istio.io/inject',
    'app',
  );
  const labels = fc.dictionary(key, value, { maxKeys: 5 });

  it('when a Namespace has any mix of Istio labels, then both give the same verdict', () => {
    fc.assert(
      fc.property(fc.constantFrom(NAMESPACES.management, NAMESPACES.addons, 'shop'), labels, (name, l) => {
        const s = subjectFromObject(
          { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: l } },
          { location: 'generated' },
          1 << 20,
        )!;
        expect(celVerdict(s)).toEqual(typescriptVerdict(s));
      }),
      { numRuns: 400 },
    );
  });

  it('when a pod template has any mix of Istio labels and annotations, then both give the same verdict', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(NAMESPACES.management, NAMESPACES.addons, 'shop'),
        labels,
        labels,
        (namespace, l, a) => {
          const deployment = {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            metadata: { name: 'app', namespace },
            spec: { template: { metadata: { labels: l, annotations: a }, spec: { containers: [] } } },
          };
          const s = subjectFromObject(deployment, { location: 'generated' }, 1 << 20)!;
          expect(celVerdict(s)).toEqual(typescriptVerdict(s));
        },
      ),
      { numRuns: 400 },
    );
  });
});
