// The chart's ValidatingAdmissionPolicies (`validatingAdmissionPolicies.enabled`): generated from
// src/rules/builtin.ts (scripts/gen-vap.ts), rendered by the real helm only when the API exists, and
// the same objects `gloo-guard vap` renders for the config the chart's ConfigMap carries. The real
// API server enforces them in test/e2e/rules.e2e.test.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { POLICIES } from '../../src/policies/index.js';
import { renderVaps } from '../../src/rules/vap.js';
import { vapTemplate } from '../../scripts/gen-vap.js';
import { all, CHART_DIR, FULLNAME, MAJORS, one, render, type Json, type RenderOptions } from './helm.js';

const API = 'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy';
const ON = ['validatingAdmissionPolicies.enabled=true'];
const RULES = '../../examples/rules/config.yaml';

/** The policies and bindings by name, without the chart's release prefix and labels. */
function bySuffix(objs: Json[], prefix: string): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const o of objs) {
    if (!String(o.kind).startsWith('ValidatingAdmissionPolicy')) continue;
    const spec = structuredClone(o.spec);
    // The chart also leaves out kube-system and its own namespace, as its webhooks do.
    delete spec.matchConstraints?.namespaceSelector;
    if (spec.policyName) spec.policyName = String(spec.policyName).slice(prefix.length);
    out[`${o.kind} ${String(o.metadata.name).slice(prefix.length)}`] = spec;
  }
  return out;
}

describe('generated ValidatingAdmissionPolicies', () => {
  it('when a built-in object check changes, then templates/validatingadmissionpolicies.yaml must be regenerated (npm run docs:chart)', () => {
    expect(readFileSync(join(CHART_DIR, 'templates', 'validatingadmissionpolicies.yaml'), 'utf8')).toBe(
      vapTemplate(),
    );
  });
});

describe.each(MAJORS)('validatingAdmissionPolicies (helm %s)', (major) => {
  const vaps = (opts: RenderOptions): Json[] => all(render(major, opts), 'ValidatingAdmissionPolicy');

  it('when off (the default), or on while the API server lacks the API, then nothing is rendered', () => {
    expect(vaps({ apiVersions: [API] })).toEqual([]);
    expect(vaps({ set: ON })).toEqual([]);
    expect(vaps({ set: ON, apiVersions: [API] })).not.toEqual([]);
  });

  it('when on, then the chart renders what `gloo-guard vap` renders for the config in its ConfigMap', () => {
    const opts: RenderOptions = {
      values: [RULES],
      set: [...ON, 'namespaces.management=gm-prod', 'onError=deny'],
      setJson: [
        'policies={"mgmt-server-internal-lb":{"action":"warn"},"addons-namespace-injection":{"action":"off"},"gloo-mesh-container-limits":{"action":"warn"}}',
        'exceptions=[{"policy":"no-injection-in-gloo-mesh","namespace":"gm-prod","reason":"r"},' +
          '{"policy":"gloo-mesh-container-limits","name":"legacy","namespace":"gloo-mesh","reason":"r","expires":"2999-01-01"},' +
          '{"policy":"mgmt-server-scrape-annotations","name":"old","reason":"r","expires":"2001-01-01"}]',
      ],
      apiVersions: [API],
    };
    const objs = render(major, opts);
    const config = parseConfig(one(objs, 'ConfigMap', FULLNAME).data['config.yaml'] as string, 'ConfigMap');
    const chart = bySuffix(objs, FULLNAME);
    const cli = bySuffix(renderVaps(config).objects, 'gloo-guard');
    expect(Object.keys(chart).sort()).toEqual(Object.keys(cli).sort());
    expect(chart).toEqual(cli);
    // What that means for a reader: actions, the off policy, live and expired exceptions, the rule.
    const names = Object.keys(chart);
    expect(names).not.toContain('ValidatingAdmissionPolicy -addons-namespace-injection-namespace');
    expect(
      chart['ValidatingAdmissionPolicyBinding -mgmt-server-internal-lb-service'].validationActions,
    ).toEqual(['Warn', 'Audit']);
    expect(
      chart['ValidatingAdmissionPolicy -no-injection-in-gloo-mesh-namespace'].matchConditions,
    ).toContainEqual({
      name: 'exception-0',
      expression: '!(request.name == "gm-prod")',
    });
    const limits = chart['ValidatingAdmissionPolicy -gloo-mesh-container-limits-deployment'];
    expect(limits.matchConditions).toContainEqual({
      name: 'exception-1',
      expression: '!(request.namespace == "gloo-mesh" && request.name == "legacy")',
    });
    const scrape = chart['ValidatingAdmissionPolicy -mgmt-server-scrape-annotations-deployment'];
    expect(JSON.stringify(scrape.matchConditions)).not.toContain('exception-2');
    expect(scrape.variables[0]).toEqual({
      name: 'namespaces',
      expression: `{'management': "gm-prod", 'addons': "gloo-mesh-addons"}`,
    });
  });

  it('when the mode is audit, then nothing is denied and an evaluation error lets the request through', () => {
    const objs = render(major, { set: [...ON, 'mode=audit'], apiVersions: [API] });
    for (const b of all(objs, 'ValidatingAdmissionPolicyBinding'))
      expect(b.spec.validationActions).toEqual(['Warn', 'Audit']);
    for (const p of all(objs, 'ValidatingAdmissionPolicy')) expect(p.spec.failurePolicy).toBe('Ignore');
    const enforce = render(major, { set: ON, apiVersions: [API] });
    for (const b of all(enforce, 'ValidatingAdmissionPolicyBinding')) {
      const id = POLICIES.find((p) => b.metadata.name.startsWith(`${FULLNAME}-${p.id}-`));
      expect(b.spec.validationActions).toEqual(id?.defaultAction === 'deny' ? ['Deny'] : ['Warn', 'Audit']);
    }
    expect(
      all(enforce, 'ValidatingAdmissionPolicyBinding').filter((b) => b.spec.validationActions[0] === 'Deny'),
    ).not.toEqual([]);
    for (const p of all(enforce, 'ValidatingAdmissionPolicy')) expect(p.spec.failurePolicy).toBe('Fail');
  });

  it('when a rule judges releases or reads Helm values, then it stays with the webhook', () => {
    const names = vaps({ values: [RULES], set: ON, apiVersions: [API] }).map((p) => p.metadata.name);
    expect(names).toContain(`${FULLNAME}-gloo-mesh-container-limits-deployment`);
    expect(
      names.filter((n) => n.includes('mgmt-server-replicas') || n.includes('relay-internal-dns')),
    ).toEqual([]);
    const { skipped } = renderVaps(parseConfig(readFileSync(join(CHART_DIR, RULES), 'utf8'), RULES));
    expect(skipped.map((s) => s.id).sort()).toEqual(
      parseConfig(readFileSync(join(CHART_DIR, RULES), 'utf8'), RULES)
        .rules.map((r) => r.id)
        .filter((id) => id !== 'gloo-mesh-container-limits')
        .sort(),
    );
  });
});
